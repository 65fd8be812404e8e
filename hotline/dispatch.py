"""What happens the moment the router reserves an agent for a call.

The routing policy decides (in one Lua step); this small piece performs the side effects,
in the order the hotline promises: the citizen's profile goes to the agent's desktop and
to every screen-pop webhook, then the agent's phone rings. If the phone cannot be rung,
the reservation is given back (the call returns to the head of its queue and the next
free agent is tried).

Side effects run on a small thread pool so a webhook turn never waits on Twilio's REST
API. If this process dies in between, the reservation simply times out and the call is
offered again: nothing is lost.

A ring the call no longer wants (the citizen left while it rang, or while it was being
placed) is cancelled at once, so no agent answers a call that is gone.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Protocol

from hotline.errors import TelephonyUnavailable
from hotline.profile import build_profile, department_names
from routing import CallPhase, ReservationExpired, RoutingError

log = logging.getLogger(__name__)

LEG_MEMORY_SECONDS = 24 * 3600  # the agent leg of a call is remembered this long (to hang it up)


class AgentRinger(Protocol):
    def ring(self, call_id: str, agent_id: str, endpoint: str) -> str: ...
    def hang_up(self, leg_id: str) -> None: ...  # an answered leg
    def cancel(self, leg_id: str) -> None: ...  # a leg still ringing


class Dispatcher:
    def __init__(self, *, routing, registry, pops, views, config, legs: "AgentLegs",
                 executor: Executor | None = None) -> None:
        self._routing = routing
        self._views = views  # hotline.audit.ProfileViews: the pop shows a citizen's profile
        self._registry = registry
        self._pops = pops
        self._config = config
        self._legs = legs
        self._ringers: dict[str, AgentRinger] = {}  # by the call's channel: "twilio", "asterisk"
        # Channels whose pop-and-ring runs in the caller's thread (see `register_ringer`).
        self._inline_channels: frozenset[str] = frozenset()
        self._executor = executor or ThreadPoolExecutor(max_workers=8, thread_name_prefix="onecall-dispatch")

    def register_ringer(self, channel: str, ringer: AgentRinger, *, inline: bool = False) -> None:
        """Ring agents of `channel`'s calls with `ringer`.

        `inline`: pop and ring in the caller's thread rather than on the pool. The Asterisk
        driver asks for it while it owns the AMI connection in this process: its ring is a
        hand-over to its own loop and the pop a few Redis writes, so the hop to a pool thread
        would cost more than it saves (a ring over Twilio's REST API always goes to the pool).
        """
        self._ringers[channel] = ringer
        self._inline_channels = (self._inline_channels | {channel}) if inline else (self._inline_channels - {channel})

    def dispatch(self, reservation) -> None:
        """Pop and ring for a fresh reservation (None is ignored), on the pool unless inline."""
        if reservation is None:
            return
        if not self._inline_channels:
            self._executor.submit(self._connect_logged, reservation)
            return
        try:
            record = self._routing.call(reservation.call_id)
        except RoutingError:
            return  # ended in between: nothing to pop or ring
        if (record.data or {}).get("channel", "twilio") in self._inline_channels:
            self._connect_logged(reservation, record)
        else:
            self._executor.submit(self._connect_logged, reservation, record)

    def dispatch_all(self, reservations) -> None:
        for reservation in reservations or ():
            self.dispatch(reservation)

    def _connect_logged(self, reservation, record=None) -> None:
        try:
            self.connect(reservation, record)
        except Exception:  # a thread-pool task must never die silently
            log.exception("dispatching reservation of call %s to %s failed", reservation.call_id, reservation.agent_id)

    def build_pop(self, reservation, record=None) -> dict:
        record = record or self._routing.call(reservation.call_id)
        data = dict(record.data or {})
        language = reservation.language
        names = department_names(self._config.skills, language)
        agent = self._config.agent(reservation.agent_id)
        return {
            "call": {
                "id": reservation.call_id,
                "caller": reservation.caller,
                "skill": reservation.skill,
                "skill_name": names.get(reservation.skill, reservation.skill),
                "language": language,
                "priority": record.priority,
                "verification": data.get("verification", "none"),
                "channel": data.get("channel", "twilio"),
                "enqueued_at": record.enqueued_at,
                "reserved_at": time.time(),
                "reservation_deadline": reservation.deadline,
            },
            "agent": {
                "id": reservation.agent_id,
                "name": agent.name if agent else reservation.agent_id,
                "endpoint": reservation.endpoint,
            },
            "citizen": build_profile(self._registry, reservation.citizen_id, data.get("verification", "none"),
                                     reservation.caller, names),
        }

    def connect(self, reservation, record=None) -> None:
        """Pop, then ring; on a ring failure give the call back and try the next agent."""
        record = record or self._routing.call(reservation.call_id)
        pop = self.build_pop(reservation, record)
        self._views.pop_shown(pop, "pop")  # recorded before it is shown
        self._pops.publish(pop)
        channel = (record.data or {}).get("channel", "twilio")
        ringer = self._ringers.get(channel)
        if ringer is None:
            log.warning("no %s telephony to ring %s for call %s", channel, reservation.agent_id, reservation.call_id)
            return
        try:
            leg_id = ringer.ring(reservation.call_id, reservation.agent_id, reservation.endpoint)
        except TelephonyUnavailable as exc:
            log.error("%s; call %s goes back to the head of its queue", exc, reservation.call_id)
            self._give_back(reservation, "ring-failed")
            return
        self._legs.remember(reservation.call_id, channel, leg_id)
        if not self._still_offered(reservation):
            self.cancel_ring(reservation.call_id)  # the citizen left while the ring was being placed

    def _still_offered(self, reservation) -> bool:
        try:
            record = self._routing.call(reservation.call_id)
        except RoutingError:
            return False
        return record.agent_id == reservation.agent_id and record.state in (CallPhase.RESERVED, CallPhase.CONNECTED)

    def _give_back(self, reservation, reason: str) -> None:
        self._pops.clear(reservation.agent_id)
        self._pops.notify_desk(reservation.agent_id, "missed", {"call_id": reservation.call_id, "reason": reason})
        try:
            self.dispatch(self._routing.reject(reservation.call_id, reservation.agent_id, reason))
        except ReservationExpired:
            pass  # already timed out or ended elsewhere: nothing left to give back

    def hang_up_agent_leg(self, call_id: str) -> None:
        leg = self._legs.of(call_id)
        ringer = self._ringers.get(leg[0]) if leg else None
        if ringer is not None:
            try:
                ringer.hang_up(leg[1])
            except TelephonyUnavailable as exc:
                log.warning("%s", exc)

    def cancel_ring(self, call_id: str) -> None:
        """Stop the agent's phone ringing for a call that no longer wants it (the leg is
        taken from memory first, so two cancellers stop it once)."""
        leg = self._legs.take(call_id)
        ringer = self._ringers.get(leg[0]) if leg else None
        if ringer is None:
            return
        if leg[0] in self._inline_channels:
            self._cancel_logged(ringer, call_id, leg[1])
        else:
            self._executor.submit(self._cancel_logged, ringer, call_id, leg[1])

    @staticmethod
    def _cancel_logged(ringer: AgentRinger, call_id: str, leg_id: str) -> None:
        try:
            ringer.cancel(leg_id)
        except TelephonyUnavailable as exc:
            log.warning("could not stop the ring of call %s: %s", call_id, exc)
        except Exception:  # a thread-pool task must never die silently
            log.exception("cancelling the ring of call %s failed", call_id)

    def forget_leg(self, call_id: str) -> None:
        self._legs.forget(call_id)

    def sweep(self) -> None:
        """Expired reservations go back to their queues; finished wrap-ups return agents to work."""
        try:
            self.dispatch_all(self._routing.expire_reservations())
            self.dispatch_all(self._routing.expire_wrapups())
        except RoutingError:
            log.exception("routing sweep failed")

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


class AgentLegs:
    """Which leg rang the agent of each call (to hang it up when the desk closes the call)."""

    def __init__(self, redis_client, keys) -> None:
        self._redis = redis_client
        self._keys = keys

    def remember(self, call_id: str, channel: str, leg_id: str) -> None:
        self._redis.set(self._keys.agent_leg(call_id), f"{channel} {leg_id}", ex=LEG_MEMORY_SECONDS)

    def of(self, call_id: str) -> tuple[str, str] | None:
        """(channel, leg id) of the agent's leg of a call, if one was rung."""
        return self._parse(self._redis.get(self._keys.agent_leg(call_id)))

    def take(self, call_id: str) -> tuple[str, str] | None:
        """(channel, leg id) of the call's agent leg, forgotten in the same step."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(self._keys.agent_leg(call_id))
        pipe.delete(self._keys.agent_leg(call_id))
        value = pipe.execute()[0]
        return self._parse(value)

    @staticmethod
    def _parse(value) -> tuple[str, str] | None:
        if not value:
            return None
        channel, _, leg_id = (value.decode() if isinstance(value, bytes) else value).partition(" ")
        return channel, leg_id

    def forget(self, call_id: str) -> None:
        self._redis.delete(self._keys.agent_leg(call_id))
