"""Handing due items of a sorted set to exactly one of many processes.

Several OneCall processes run the same background work (webhook deliveries, liveness
checks). Items wait in a sorted set scored by when they are due; a worker claims the due
ones in one atomic step that also pushes each to a later score, so no other worker takes
it meanwhile, and a worker that dies mid-task only delays the item, never loses it.
"""
from __future__ import annotations

from routing.scripts import CLAIM_DUE


class DueClaimer:
    def __init__(self, redis_client, key: str) -> None:
        self._script = redis_client.register_script(CLAIM_DUE)
        self.key = key

    def claim(self, due_before: float, move_to: float, limit: int) -> list[str]:
        members = self._script(keys=[self.key], args=[repr(due_before), repr(move_to), limit])
        return [m if isinstance(m, str) else m.decode() for m in members]
