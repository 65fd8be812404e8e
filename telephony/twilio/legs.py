"""Which Twilio agent leg a call is offered on now.

Twilio names a leg (its CallSid) only when the REST request that places it returns, and
the leg may call back before that. So OneCall names each agent leg itself before placing
it: the name rides in the leg's answer and status URLs (`leg=`) and is kept here as the
call's current leg. A request from any other leg (rung before a timeout, or an earlier
ring of the same agent) is from a leg the call is no longer offered on: it can neither
accept the call nor end it.
"""
from __future__ import annotations

import secrets

from routing.keys import Keys

LEG_MEMORY_SECONDS = 24 * 3600  # longer than any call


class TwilioLegs:
    def __init__(self, redis_client, keys: Keys) -> None:
        self._redis = redis_client
        self._keys = keys

    def name_next(self, call_id: str) -> str:
        """A name for the leg about to be placed for `call_id`, which becomes its current one."""
        leg = secrets.token_hex(8)
        self._redis.set(self._keys.twilio_leg(call_id), leg, ex=LEG_MEMORY_SECONDS)
        return leg

    def is_current(self, call_id: str, leg: str) -> bool:
        if not leg:
            return False  # a leg placed without a name: not one OneCall offers the call on
        current = self._redis.get(self._keys.twilio_leg(call_id))
        return (current.decode() if isinstance(current, bytes) else current) == leg
