"""A call's life, the same on every telephony back-end.

Both drivers (Twilio webhooks, Asterisk FastAGI/AMI) translate their protocol into these
few moments and back; the flow, the router and the screen pop behave identically
whichever network the citizen called through:

    start -> step ... step -> (routed) -> agent answered | agent missed -> ended
"""
from __future__ import annotations

import logging

from ivr.actions import Route
from ivr.events import CallerHungUp, NoInput
from ivr.interpreter import Step
from ivr.state import CallState
from routing import CallAlreadyQueued, CallRequest, ReservationExpired, RoutingError, choose_language

log = logging.getLogger(__name__)


class CallLifecycle:
    def __init__(self, runtime) -> None:
        self._runtime = runtime

    def start(self, call_id: str, caller: str, channel: str) -> Step:
        """The flow's first step for a new call; a repeated start replays the current prompt."""
        runtime = self._runtime
        step = runtime.interpreter.start(call_id, caller, runtime.registry)
        if step.state.finished or runtime.sessions.create(step.state):
            return self.take(step, channel, saved=not step.state.finished)
        current = runtime.sessions.load(call_id)  # a retried first request of a call in its flow
        return self.take(runtime.interpreter.handle(current, NoInput(), runtime.registry), channel)

    def step(self, state: CallState, event, channel: str) -> Step:
        """The flow's next step after `event`, saved and routed."""
        return self.take(self._runtime.interpreter.handle(state, event, self._runtime.registry), channel)

    def take(self, step: Step, channel: str, saved: bool = False) -> Step:
        """Save the step's state and hand its Route, if any, to the router."""
        runtime = self._runtime
        if step.error:
            log.error("call %s left its flow for the fallback queue: %s", step.state.call_id, step.error)
        if not saved:
            runtime.sessions.save(step.state)
        for action in step.actions:
            if isinstance(action, Route):
                self.enqueue(step.state, action, channel)
        return step

    def enqueue(self, state: CallState, route: Route, channel: str) -> None:
        runtime = self._runtime
        # A caller whose language no agent of that skill speaks waits in the default language.
        language = choose_language(route.language, route.skill, runtime.covered_language_pairs,
                                   runtime.config.hotline.default_language)
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
            result = runtime.routing.enqueue(request)
        except CallAlreadyQueued:
            return  # a retried request: the call already waits or is connected
        if channel == "twilio":  # Asterisk calls are checked against the live channel list instead
            runtime.liveness.seen(state.call_id)
        runtime.dispatcher.dispatch(result.reservation)

    def still_routed(self, call_id: str) -> bool:
        try:
            return self._runtime.routing.call(call_id).state in ("waiting", "reserved")
        except RoutingError:
            return False

    def agent_answered(self, call_id: str, agent_id: str) -> bool:
        """The reserved agent picked up: True when the call is theirs to take."""
        runtime = self._runtime
        try:
            runtime.routing.accept(call_id, agent_id)
        except (ReservationExpired, RoutingError):
            return False
        runtime.pops.notify_desk(agent_id, "connected", {"call_id": call_id})
        return True

    def agent_missed(self, call_id: str, agent_id: str, reason: str) -> None:
        """The agent's phone was not answered: the call goes back to the head of its queue."""
        runtime = self._runtime
        try:
            runtime.dispatcher.dispatch(runtime.routing.reject(call_id, agent_id, reason))
        except (ReservationExpired, RoutingError):
            return  # already expired, answered or ended: a late report changes nothing
        runtime.pops.clear(agent_id)
        runtime.pops.notify_desk(agent_id, "missed", {"call_id": call_id, "reason": reason})

    def ended(self, call_id: str, reason: str) -> None:
        """The citizen's call is over (either side hung up); the agent goes to wrap-up."""
        runtime = self._runtime
        state = runtime.sessions.load(call_id)
        if state is not None and not state.finished:
            runtime.sessions.save(runtime.interpreter.handle(state, CallerHungUp(), runtime.registry).state)
        try:
            runtime.dispatcher.dispatch(runtime.routing.end_call(call_id, reason))
        except RoutingError:
            pass  # never reached the router (hung up in the menu), or already ended
        runtime.liveness.forget(call_id)
