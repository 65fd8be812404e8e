"""The pure policy functions, and that the Lua scripts score agents exactly like them."""
from __future__ import annotations

from routing import CallRequest, policy

from .conftest import T0, profile


def test_agent_score_prefers_proficiency_then_longest_idle():
    expert_recent = policy.agent_score(5, T0 + 100)
    novice_idle_long = policy.agent_score(1, T0)
    assert expert_recent < novice_idle_long
    assert policy.agent_score(3, T0) < policy.agent_score(3, T0 + 0.002)
    assert policy.agent_score(4, T0 + 5) < policy.agent_score(3, T0)


def test_call_score_prefers_priority_then_earliest():
    urgent_late = policy.call_score(10, T0 + 600)
    normal_early = policy.call_score(0, T0)
    assert urgent_late < normal_early
    assert policy.call_score(0, T0) < policy.call_score(0, T0 + 0.001)
    # out-of-range priorities are clamped, not allowed to overflow the band
    assert policy.call_score(10_000, T0) == policy.call_score(policy.MAX_PRIORITY, T0)
    assert policy.call_score(-5, T0) == policy.call_score(0, T0)


def test_scores_are_exact_integers_in_a_double():
    worst = policy.call_score(0, T0 * 3)
    assert worst < 2**53 and float(worst) == worst
    assert policy.agent_score(1, T0 * 3) < 2**53


def test_choose_language_falls_back_when_no_agent_can_exist():
    pairs = {("tax", "ko"), ("tax", "en"), ("water", "ko")}
    assert policy.choose_language("en", "tax", pairs, "ko") == "en"
    assert policy.choose_language("en", "water", pairs, "ko") == "ko"
    assert policy.choose_language("vi", "tax", pairs, "ko") == "ko"


def test_language_pairs():
    assert policy.language_pairs({"tax": 3, "water": 1}, ("ko", "en")) == [
        ("tax", "ko"), ("tax", "en"), ("water", "ko"), ("water", "en")
    ]


def test_lua_agent_scores_equal_policy(store, redis_client, clock):
    clock.now = T0 + 0.1234
    store.sync_agents([profile("kim", {"tax": 4, "water": 2}, ("ko", "en"))])
    store.set_status("kim", "available")
    for skill, prof in (("tax", 4), ("water", 2)):
        for lang in ("ko", "en"):
            score = redis_client.zscore(store.keys.available(skill, lang), "kim")
            assert score == policy.agent_score(prof, clock.now)


def test_enqueue_uses_policy_call_score(store, redis_client, clock):
    store.enqueue(CallRequest("c1", "tax", "ko", priority=7))
    assert redis_client.zscore(store.keys.queue("tax", "ko"), "c1") == policy.call_score(7, clock.now)
