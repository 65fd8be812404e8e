"""Where a call's place in its flow is kept between two webhook turns.

The interpreter is pure: each turn the driver loads the call's `CallState`, hands it an
event and saves the new state. State lives in Redis (one JSON value per call, expiring a
day after the last turn), so any web process can take the next turn. The reads and writes go
through a `RedisLane` (see why in `hotline.redis_lane`): they are on every turn.
"""
from __future__ import annotations

import json

from ivr.state import CallState
from hotline.redis_lane import RedisLane
from routing.keys import Keys

SESSION_TTL_SECONDS = 24 * 3600


class CallSessions:
    def __init__(self, redis_client, keys: Keys) -> None:
        self._lane = RedisLane(redis_client)
        self._key = keys.session

    def load(self, call_id: str) -> CallState | None:
        raw = self._lane.execute("GET", self._key(call_id))
        return CallState.from_dict(json.loads(raw)) if raw else None

    def create(self, state: CallState) -> bool:
        """Save the first state of a new call; False when the call already has one."""
        reply = self._lane.execute("SET", self._key(state.call_id), json.dumps(state.to_dict()),
                                   "EX", SESSION_TTL_SECONDS, "NX")
        return reply is not None  # "OK", or nil when the key exists

    def save(self, state: CallState) -> None:
        self._lane.execute("SET", self._key(state.call_id), json.dumps(state.to_dict()), "EX", SESSION_TTL_SECONDS)
