"""Handing due items of a sorted set to exactly one of many processes.

Several OneCall processes run the same background work (webhook deliveries, liveness
checks). Items wait in a sorted set scored by when they are due; a worker claims the due
ones in one atomic step that also pushes each to a later score, so no other worker takes
it meanwhile, and a worker that dies mid-task only delays the item, never loses it.
"""
from __future__ import annotations

# KEYS[1] the sorted set (member -> due time)
# ARGV[1] claim members due at or before this score
# ARGV[2] the score the claimed members move to (their next due time / lease end)
# ARGV[3] at most this many members
# Returns the members claimed.
CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
end
return due
"""


class DueClaimer:
    def __init__(self, redis_client, key: str) -> None:
        self._script = redis_client.register_script(CLAIM_DUE)
        self.key = key

    def claim(self, due_before: float, move_to: float, limit: int) -> list[str]:
        members = self._script(keys=[self.key], args=[repr(due_before), repr(move_to), limit])
        return [m if isinstance(m, str) else m.decode() for m in members]
