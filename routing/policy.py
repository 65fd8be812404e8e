"""The routing policy as pure functions (no I/O).

Sorted-set scores encode the whole ordering, so the Lua scripts only ever take the
head of an index (ZRANGE 0 0): lower score = served first.

* Agents in an available index: best proficiency first, then the longest idle
  (earliest `since`).  ``(MAX_PROFICIENCY - proficiency) * SCORE_BAND + since_ms``.
  The agent score is computed inside Lua (the agent's `since` is the script's `now`);
  `tests/routing/test_policy.py` checks that Lua's scores equal `agent_score`.
* Calls in a queue: highest priority first, then the earliest enqueue.
  ``(MAX_PRIORITY - priority) * SCORE_BAND + enqueued_ms``.  Computed here and passed
  to the enqueue script; the call keeps it so a requeued call returns to its old place.

All scores are integers below 2**53, exact in a double (Redis scores and Lua numbers).
Resolution is one millisecond: two equal-priority calls enqueued in the same
millisecond are ordered by call id.
"""
from __future__ import annotations

from typing import Collection, Iterable

MIN_PROFICIENCY = 1
MAX_PROFICIENCY = 5
MIN_PRIORITY = 0
MAX_PRIORITY = 99
SCORE_BAND = 10**13  # > any epoch-milliseconds until the year 2286


def to_ms(epoch_seconds: float) -> int:
    """Epoch seconds -> integer milliseconds (the Lua side receives this value)."""
    return int(epoch_seconds * 1000)


def clamp_priority(priority: int) -> int:
    return max(MIN_PRIORITY, min(MAX_PRIORITY, int(priority)))


def agent_score(proficiency: int, since: float) -> int:
    """Score of an available agent in one (skill, language) index; lower is better."""
    proficiency = max(MIN_PROFICIENCY, min(MAX_PROFICIENCY, int(proficiency)))
    return (MAX_PROFICIENCY - proficiency) * SCORE_BAND + to_ms(since)


def call_score(priority: int, enqueued_at: float) -> int:
    """Score of a waiting call in its queue; lower is served first."""
    return (MAX_PRIORITY - clamp_priority(priority)) * SCORE_BAND + to_ms(enqueued_at)


def choose_language(
    requested: str,
    skill: str,
    available_language_pairs: Collection[tuple[str, str]],
    default_language: str,
) -> str:
    """The language to queue a call in.

    `available_language_pairs` are the (skill, language) pairs some configured agent
    covers.  If nobody covers (skill, requested), the call goes to the default language
    queue, so it never waits for an agent that cannot exist.
    """
    if (skill, requested) in available_language_pairs:
        return requested
    return default_language


def language_pairs(skills: Iterable[str], languages: Iterable[str]) -> list[tuple[str, str]]:
    """Every (skill, language) index an agent with these skills and languages belongs to."""
    langs = list(dict.fromkeys(languages))
    return [(skill, lang) for skill in dict.fromkeys(skills) for lang in langs]
