"""A call's life, the same on every telephony back-end.

Both drivers (Twilio webhooks, Asterisk FastAGI/AMI) translate their protocol into these
few moments and back; the flow, the router and the screen pop behave identically
whichever network the citizen called through:

    start -> step ... step -> (routed) -> agent answered | agent missed -> ended
"""
from __future__ import annotations

import logging
from typing import Collection, Iterable, Mapping, Protocol

from ivr.actions import Route
from ivr.events import CallerHungUp, NoInput
from ivr.interpreter import CitizenDirectory, Interpreter, Step
from ivr.state import CallState
from routing import STILL_ROUTED, CallAlreadyQueued, CallPhase, CallRequest, ReservationExpired, RoutingError
from routing import RoutingStore
from routing import choose_language

log = logging.getLogger(__name__)


def room_name(call_id: str) -> str:
    """The call's own room (Twilio conference, Asterisk ConfBridge): the agent joins it, and
    a later expert can too, without the citizen ever moving."""
    return f"oc-{call_id}"


class CallWatch(Protocol):
    """What a driver that must watch its routed calls is told (Twilio: calls whose hang-up
    could go unreported)."""

    def routed(self, call_id: str) -> None: ...
    def ended(self, call_id: str) -> None: ...


class CallLifecycle:
    def __init__(self, *, interpreter: Interpreter, sessions, registry: CitizenDirectory, routing: RoutingStore,
                 dispatcher, desk_events, covered_language_pairs: Collection[tuple[str, str]],
                 default_language: str, watches: Mapping[str, CallWatch] | None = None, outcomes=None) -> None:
        self._interpreter = interpreter
        self._sessions = sessions
        self._registry = registry
        self._routing = routing
        self._dispatcher = dispatcher
        self._desk_events = desk_events  # ScreenPops: the agent's desk hears of answers and misses
        self._covered = frozenset(covered_language_pairs)
        self._default_language = default_language
        self._watches = dict(watches or {})  # by channel
        self._outcomes = outcomes  # CallOutcomes: an answered call is kept until its outcome is saved

    def watch(self, channel: str, watch: CallWatch) -> None:
        """A driver asks to hear when its calls are routed and end."""
        self._watches[channel] = watch

    def start(self, call_id: str, caller: str, channel: str) -> Step:
        """The flow's first step for a new call; a repeated start replays the current prompt."""
        step = self._interpreter.start(call_id, caller, self._registry)
        if step.state.finished or self._sessions.create(step.state):
            return self.take(step, channel, saved=not step.state.finished)
        current = self._sessions.load(call_id)  # a retried first request of a call in its flow
        return self.take(self._interpreter.handle(current, NoInput(), self._registry), channel)

    def step(self, state: CallState, event, channel: str) -> Step:
        """The flow's next step after `event`, saved and routed."""
        return self.take(self._interpreter.handle(state, event, self._registry), channel)

    def fallback(self, state: CallState, reason: str, channel: str) -> Step:
        """Whatever broke, the caller still reaches a person: the fallback queue."""
        return self.take(self._interpreter.fallback(state, reason, self._registry), channel)

    def take(self, step: Step, channel: str, saved: bool = False) -> Step:
        """Save the step's state and hand its Route, if any, to the router."""
        if step.error:
            log.error("call %s left its flow for the fallback queue: %s", step.state.call_id, step.error)
        if not saved:
            self._sessions.save(step.state)
        for action in step.actions:
            if isinstance(action, Route):
                self.enqueue(step.state, action, channel)
        return step

    def enqueue(self, state: CallState, route: Route, channel: str) -> None:
        # A caller whose language no agent of that skill speaks waits in the default language.
        language = choose_language(route.language, route.skill, self._covered, self._default_language)
        request = CallRequest(
            call_id=state.call_id,
            skill=route.skill,
            language=language,
            priority=route.priority,
            citizen_id=route.citizen_id,
            caller=state.caller,
            data={"verification": route.verification, "channel": channel, "flow_language": route.language},
        )
        try:
            result = self._routing.enqueue(request)
        except CallAlreadyQueued:
            return  # a retried request: the call already waits or is connected
        watch = self._watches.get(channel)
        if watch is not None:
            watch.routed(state.call_id)
        self._dispatcher.dispatch(result.reservation)

    def still_routed(self, call_id: str) -> bool:
        try:
            return self._routing.call(call_id).state in STILL_ROUTED
        except RoutingError:
            return False

    def language_of(self, call_id: str) -> str:
        """The language the call's flow speaks (the default one for a call we know nothing of)."""
        state = self._sessions.load(call_id)
        return state.language if state else self._default_language

    def agent_answered(self, call_id: str, agent_id: str) -> bool:
        """The reserved agent picked up: True when the call is theirs to take."""
        try:
            self._routing.accept(call_id, agent_id)
        except (ReservationExpired, RoutingError):
            return False
        if self._outcomes is not None:
            self._outcomes.answered(agent_id, call_id)
        self._desk_events.notify_desk(agent_id, "connected", {"call_id": call_id})
        return True

    def agent_missed(self, call_id: str, agent_id: str, reason: str) -> None:
        """The agent's phone was not answered: the call goes back to the head of its queue."""
        try:
            self._dispatcher.dispatch(self._routing.reject(call_id, agent_id, reason))
        except (ReservationExpired, RoutingError):
            return  # already expired, answered or ended: a late report changes nothing
        self._desk_events.clear(agent_id)
        self._desk_events.notify_desk(agent_id, "missed", {"call_id": call_id, "reason": reason})

    def agent_leg_ended(self, call_id: str, agent_id: str, reason: str) -> None:
        """The leg the call was last offered on, to `agent_id`, ended. Only an accepted leg ends
        the call; one that never got its answer through is a missed offer."""
        record = self._record(call_id)
        if record is None or record.agent_id != agent_id:
            return  # timed out, or offered to someone else since: nothing of theirs to end
        if record.state == CallPhase.CONNECTED:
            self.ended(call_id, reason)
        elif record.state == CallPhase.RESERVED:
            self.agent_missed(call_id, agent_id, reason)

    def ended(self, call_id: str, reason: str) -> None:
        """The citizen's call is over (either side hung up); the agent goes to wrap-up. An agent
        whose phone is still ringing for it is released at once and the ring cancelled."""
        state = self._sessions.load(call_id)
        if state is not None and not state.finished:
            self._sessions.save(self._interpreter.handle(state, CallerHungUp(), self._registry).state)
        before = self._record(call_id)  # one read: was an agent ringing, and whose desk to tell
        try:
            self._dispatcher.dispatch(self._routing.end_call(call_id, reason))
        except RoutingError:
            pass  # never reached the router (hung up in the menu), or already ended
        if before is not None and before.state == CallPhase.RESERVED:
            self._dispatcher.cancel_ring(call_id)
        for watch in self._watches.values():
            watch.ended(call_id)
        if before is not None and before.agent_id:
            # The agent's desk hears at once that the call is over (not at its next heartbeat).
            self._desk_events.notify_desk(before.agent_id, "ended", {"call_id": call_id, "reason": reason})

    def _record(self, call_id: str):
        try:
            return self._routing.call(call_id)
        except RoutingError:
            return None


def covered_pairs(agents: Iterable) -> frozenset[tuple[str, str]]:
    """(skill, language) pairs some configured agent covers: fixed by the config."""
    return frozenset((skill, language) for agent in agents for skill in agent.skills for language in agent.languages)
