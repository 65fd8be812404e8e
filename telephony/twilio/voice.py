"""The Twilio voice webhook turns: what each request Twilio sends means to OneCall, and the
TwiML it gets back. No Flask here: `webhooks.twilio_voice` parses the request, checks its
signature and calls one method; the method answers with a TwiML document.

| URL (under /twilio) | Twilio sends it when | method |
| --- | --- | --- |
| /voice | a call comes in to the hotline number | `incoming`: start the call's flow |
| /gather | the caller pressed keys or spoke | `gathered`: next flow step |
| /no-input | a Gather ended with nothing entered | `no_input`: next flow step (no input) |
| /wait | the waiting caller's conference needs hold TwiML | `waiting`: position, pause, loop |
| /queue-exit | the caller's conference leg ended | `queue_exit`: end the call |
| /status | the hotline number's call status changed | `call_status`: end the call when it is over |
| /agent-answer | the reserved agent answered | `agent_answered`: accept, join the conference |
| /agent-status | the agent's leg changed state | `agent_leg_status`: give the call back if unanswered |

Only the leg the call is offered on now (`telephony.twilio.legs`) may accept the call, and
only that leg, once it accepted, ends it: the end of any other leg is at most a missed offer.
"""
from __future__ import annotations

import logging

from twilio.twiml.voice_response import VoiceResponse

from ivr.actions import Say
from ivr.events import DigitsEntered, NoInput, SpeechHeard
from ivr.state import CallState
from routing import STILL_ROUTED, CallPhase, RoutingError
from telephony.twilio.statuses import FINAL_CALL_STATUSES, UNANSWERED_LEG_STATUSES
from telephony.twilio.urls import NO_INPUT, WAIT

log = logging.getLogger(__name__)

CHANNEL = "twilio"  # how the router and the screen pop name this back-end
RETRY_PAUSE_SECONDS = 3  # a caller held because even the fallback route failed tries again after this


class TwilioVoice:
    def __init__(self, *, calls, sessions, routing, renderer, urls, liveness, dispatcher, legs, default_language: str,
                 wait_announcement_seconds: int) -> None:
        self._calls = calls
        self._sessions = sessions
        self._routing = routing
        self._renderer = renderer
        self._urls = urls
        self._liveness = liveness
        self._dispatcher = dispatcher
        self._legs = legs  # TwilioLegs: which agent leg each call is offered on now
        self._default_language = default_language
        self._wait_seconds = wait_announcement_seconds

    def _render(self, step) -> str:
        return self._renderer.render(step.actions, self._urls.twiml, step.state.call_id)

    # -- the caller's turns -------------------------------------------------------------
    def incoming(self, call_sid: str, caller: str) -> str:
        return self._render(self._calls.start(call_sid, caller, CHANNEL))

    def gathered(self, call_sid: str, caller: str, digits: str, speech: str, confidence: str) -> str:
        if digits:
            return self._continue(call_sid, caller, DigitsEntered(digits))
        if speech:
            try:
                heard = float(confidence or 0)
            except ValueError:
                heard = 0.0
            return self._continue(call_sid, caller, SpeechHeard(speech, heard))
        return self._continue(call_sid, caller, NoInput())

    def no_input(self, call_sid: str, caller: str) -> str:
        return self._continue(call_sid, caller, NoInput())

    def _continue(self, call_sid: str, caller: str, event) -> str:
        state = self._sessions.load(call_sid)
        if state is None:
            # Unknown call (session expired or lost): the caller still reaches a person.
            return self.incoming(call_sid, caller)
        if state.finished and self._calls.still_routed(state.call_id):
            # A late or repeated request for a call already handed to the router: keep it waiting.
            return self._renderer.wait_for_agent(state.call_id, self._urls.twiml)
        return self._render(self._calls.step(state, event, CHANNEL))

    def waiting(self, call_sid: str) -> str:
        """The hold loop: where the caller stands (or that their agent is on the way)."""
        try:
            return self._hold_loop(call_sid)
        except Exception:
            # Redis away, or a bug: the caller stays in their conference's hold loop. Anything
            # else here (the fallback route's Dial) is not wait TwiML and would end the hold.
            log.exception("hold loop of call %s failed; asking again shortly", call_sid)
            return self._renderer.hold_on(RETRY_PAUSE_SECONDS, self._urls.url(WAIT))

    def _hold_loop(self, call_sid: str) -> str:
        language = self._calls.language_of(call_sid)
        try:
            routed = self._routing.call(call_sid).state
        except RoutingError:
            routed = None  # not (or no longer) known to the router: a plain hold message
        if routed in STILL_ROUTED:
            self._liveness.seen(call_sid)
        position = self._routing.queue_position(call_sid) if routed == CallPhase.WAITING else None
        agent_on_the_way = routed in (CallPhase.RESERVED, CallPhase.CONNECTED)
        return self._renderer.waiting(language, position, self._wait_seconds, self._urls.url(WAIT),
                                      agent_on_the_way=agent_on_the_way)

    def queue_exit(self, call_sid: str) -> str:
        self._calls.ended(call_sid, "conference-ended")
        return self._renderer.spoken_then_hangup(None)

    def call_status(self, call_sid: str, status: str) -> None:
        if status in FINAL_CALL_STATUSES:
            self._calls.ended(call_sid, f"caller-{status}")

    def keep_on_the_line(self, call_sid: str, caller: str, error: Exception) -> str:
        """A caller turn failed: send the caller to the fallback queue, never hang up."""
        fresh = CallState(call_id=call_sid, caller=caller, node=None, language=self._default_language)
        try:
            return self._render(self._calls.fallback(fresh, f"webhook error: {error!r}", CHANNEL))
        except Exception:
            # Even routing failed (Redis unreachable?): hold the caller and try again shortly.
            log.exception("could not route call %s to the fallback queue; holding it", call_sid)
            response = VoiceResponse()
            response.pause(length=RETRY_PAUSE_SECONDS)
            response.redirect(self._urls.url(NO_INPUT), method="POST")
            return response.to_xml()

    # -- the agent's leg -------------------------------------------------------------------
    def agent_answered(self, call_id: str, agent_id: str, leg: str) -> str:
        language = self._calls.language_of(call_id)
        # An earlier leg answered late (the same agent may be rung again meanwhile) takes nothing.
        if not self._legs.is_current(call_id, leg) or not self._calls.agent_answered(call_id, agent_id):
            return self._renderer.spoken_then_hangup(Say("call_already_taken", language))
        return self._renderer.agent_joins(call_id, Say("agent_whisper", language))

    def agent_leg_status(self, call_id: str, agent_id: str, leg: str, status: str) -> None:
        if status not in FINAL_CALL_STATUSES:
            return
        if not self._legs.is_current(call_id, leg):
            log.info("leg %s of call %s (%s) ended %s: the call is no longer offered on it", leg, call_id,
                     agent_id, status)
            return
        if status in UNANSWERED_LEG_STATUSES:
            self._calls.agent_missed(call_id, agent_id, status)
        else:  # completed: after talking, or answered but never accepted
            self._calls.agent_leg_ended(call_id, agent_id, "agent-hung-up")
            self._dispatcher.forget_leg(call_id)

