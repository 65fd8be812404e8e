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
from routing import CallPhase, RoutingError
from routing.keys import Keys
from telephony.twilio.statuses import FINAL_CALL_STATUSES, GONE

log = logging.getLogger(__name__)


class CallLiveness:
    def __init__(self, redis_client, keys: Keys, *, stale_after: float, clock=time.time) -> None:
        self._redis = redis_client
        self.key = keys.call_seen
        self._claims = DueClaimer(redis_client, self.key)
        self.stale_after = stale_after
        self._clock = clock

    def seen(self, call_id: str) -> None:
        self._redis.zadd(self.key, {call_id: self._clock()})

    def forget(self, call_id: str) -> None:
        self._redis.zrem(self.key, call_id)

    # The lifecycle's CallWatch: a routed Twilio call is watched until it ends.
    routed = seen
    ended = forget

    def reconcile(self, routing, status_of: Callable[[str], str | None], end: Callable[[str, str], None],
                  limit: int = 50) -> list[str]:
        """Check calls not seen for a while; end those Twilio says are over. Returns them.

        `status_of(call_id)` gives Twilio's CallStatus, `GONE` for an unknown call, or None
        when Twilio could not be asked (the call is then checked again later). `end(call_id,
        reason)` is the lifecycle's end of call, as if the hang-up had been reported: an agent
        still rung for it is released and the ring cancelled.
        """
        now = self._clock()
        ended = []
        for call_id in self._claims.claim(due_before=now - self.stale_after, move_to=now, limit=limit):
            try:
                state = routing.call(call_id).state
            except RoutingError:
                state = CallPhase.ENDED
            if state == CallPhase.ENDED:
                self.forget(call_id)
                continue
            status = status_of(call_id)
            if status == GONE or status in FINAL_CALL_STATUSES:
                log.warning("call %s was %s at Twilio but still %s here: ending it", call_id, status, state)
                end(call_id, f"caller-{status}-unreported")
                self.forget(call_id)
                ended.append(call_id)
        return ended
