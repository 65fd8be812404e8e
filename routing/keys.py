"""Every Redis key name of the routing store, built from the hotline namespace.

All keys of one hotline share the hash tag ``{<namespace>}`` (prefix ``oc:{120}:``) so
that in Redis Cluster every key a routing script touches lives in one slot.
"""
from __future__ import annotations

_FORBIDDEN = ("|", "\n", "{", "}")


def pair_suffix(skill: str, language: str) -> str:
    """The per-(skill, language) suffix used by index and queue keys: ``skill|language``."""
    for part in (skill, language):
        if not part or any(ch in part for ch in _FORBIDDEN):
            raise ValueError(f"invalid skill/language name {part!r} (empty or contains | newline braces)")
    return f"{skill}|{language}"


class Keys:
    def __init__(self, namespace: str = "120") -> None:
        if not namespace or "{" in namespace or "}" in namespace:
            raise ValueError(f"invalid namespace {namespace!r}")
        self.namespace = namespace
        self.prefix = f"oc:{{{namespace}}}:"
        p = self.prefix
        self.reservations = p + "reservations"  # zset call_id -> reservation deadline
        self.wrapups = p + "wrapups"  # zset agent_id -> wrap-up deadline
        self.agents = p + "agents"  # set of agent ids (the registry)
        self.events = p + "events"  # stream of lifecycle events
        self.pairs = p + "pairs"  # set of "skill|language" some configured agent covers
        self.queues = p + "queues"  # set of "skill|language" that ever had a call

    def agent(self, agent_id: str) -> str:
        return f"{self.prefix}agent:{agent_id}"  # hash

    def call(self, call_id: str) -> str:
        return f"{self.prefix}call:{call_id}"  # hash

    def available(self, skill: str, language: str) -> str:
        return f"{self.prefix}avail:{pair_suffix(skill, language)}"  # zset agent -> agent score

    def queue(self, skill: str, language: str) -> str:
        return f"{self.prefix}queue:{pair_suffix(skill, language)}"  # zset call -> call score

    def queue_of_suffix(self, suffix: str) -> str:
        return f"{self.prefix}queue:{suffix}"
