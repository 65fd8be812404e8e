"""One watcher for every caller holding in this process: whose call did the router move?

A holding caller's FastAGI session waits for its call to leave the queue. When the agent's
leg is answered in this process, the agent's session wakes the caller at once (`wake`).
Everything else is decided elsewhere: a desk or an expiry sweep in another process, a
driver that saw the hang-up. Re-reading every holder's call each period would put one
blocking Redis round trip per holder on the driver's loop (500 holders every 2 s: 250 a
second, each one delaying every other call's dialogue). Instead one task reads the state
of all of them in a single pipelined round trip per period and wakes only the holders
whose call changed state.
"""
from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

PERIOD_SECONDS = 2.0


class HoldWatch:
    def __init__(self, routing, period: float = PERIOD_SECONDS) -> None:
        self._routing = routing
        self.period = period
        self._holders: dict[str, asyncio.Event] = {}
        self._seen: dict[str, str | None] = {}  # call id -> the state its holder last acted on

    def hold(self, call_id: str) -> asyncio.Event:
        """Watch `call_id`; the event is set when its call changes state or its agent answers."""
        return self._holders.setdefault(call_id, asyncio.Event())

    def saw(self, call_id: str, state: str) -> None:
        """The holder acted on `state`: only a change from it wakes the holder again."""
        self._seen[call_id] = state

    def release(self, call_id: str) -> None:
        self._holders.pop(call_id, None)
        self._seen.pop(call_id, None)

    def wake(self, call_id: str) -> None:
        event = self._holders.get(call_id)
        if event is not None:
            event.set()

    def poll(self) -> int:
        """Read every watched call's state in one round trip; wake the changed ones. Returns
        how many were woken."""
        call_ids = [call_id for call_id in self._holders if call_id in self._seen]
        if not call_ids:
            return 0
        woken = 0
        for call_id, state in zip(call_ids, self._routing.call_states(call_ids)):
            if state != self._seen.get(call_id, state):
                self.wake(call_id)
                woken += 1
        return woken

    async def run(self) -> None:
        """Poll every `period` until cancelled; a failed poll (Redis away) is retried next period."""
        while True:
            await asyncio.sleep(self.period)
            try:
                self.poll()
            except Exception:
                log.exception("could not read the states of %d holding calls; trying again in %.0f s",
                              len(self._holders), self.period)
