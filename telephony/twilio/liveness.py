"""Finding calls that ended without OneCall being told.

Twilio reports a caller's hang-up through the number's status callback (and the
conference leg's Dial action). If those requests are lost (a misconfigured number, an
outage of our web tier) a dead call would sit in its queue, inflate positions and get an
agent rung for nobody. So every routed call is watched: each hold-loop request and each
routing step marks it as seen; a call not seen for `stale_after` seconds is looked up in
Twilio's REST API, and only when Twilio says it is over is it ended here. A call Twilio
still has, or cannot answer about, stays in its queue: the check never loses a waiting call.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from hotline.claims import DueClaimer
from routing import RoutingError

log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
GONE = "gone"  # what a status lookup returns when Twilio has no such call


class CallLiveness:
    def __init__(self, redis_client, namespace: str, *, stale_after: float, clock=time.time) -> None:
        self._redis = redis_client
        self.key = f"oc:{{{namespace}}}:call-seen"
        self._claims = DueClaimer(redis_client, self.key)
        self.stale_after = stale_after
        self._clock = clock

    def seen(self, call_id: str) -> None:
        self._redis.zadd(self.key, {call_id: self._clock()})

    def forget(self, call_id: str) -> None:
        self._redis.zrem(self.key, call_id)

    def reconcile(self, routing, status_of: Callable[[str], str | None], dispatch, limit: int = 50) -> list[str]:
        """Check calls not seen for a while; end those Twilio says are over. Returns them.

        `status_of(call_id)` gives Twilio's CallStatus, `GONE` for an unknown call, or None
        when Twilio could not be asked (the call is then checked again later).
        """
        now = self._clock()
        ended = []
        for call_id in self._claims.claim(due_before=now - self.stale_after, move_to=now, limit=limit):
            try:
                state = routing.call(call_id).state
            except RoutingError:
                state = "ended"
            if state == "ended":
                self.forget(call_id)
                continue
            status = status_of(call_id)
            if status == GONE or status in FINAL_STATUSES:
                log.warning("call %s was %s at Twilio but still %s here: ending it", call_id, status, state)
                dispatch(routing.end_call(call_id, f"caller-{status}-unreported"))
                self.forget(call_id)
                ended.append(call_id)
        return ended
