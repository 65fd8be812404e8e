"""Twilio voice webhooks in, TwiML out.

Subscription table (what Twilio calls, and what it means to OneCall):

| URL | Twilio sends it when | OneCall does |
| --- | --- | --- |
| /twilio/voice | a call comes in to the hotline number | start the call's flow |
| /twilio/gather | the caller pressed keys or spoke | next flow step |
| /twilio/no-input | a Gather ended with nothing entered | next flow step (no input) |
| /twilio/wait | the waiting caller's conference needs hold TwiML | position announcement, pause, loop |
| /twilio/queue-exit | the caller's conference leg ended | end the call |
| /twilio/status | the hotline number's call status changed | end the call when it is over |
| /twilio/agent-answer | the reserved agent answered | accept the reservation, join the conference |
| /twilio/agent-status | the agent's leg changed state | give the call back if it was not answered |

Every request's X-Twilio-Signature is checked once, in `before_request`, against the
public URL Twilio used (ONECALL_PUBLIC_URL when behind a proxy); a bad one gets 403 and
changes nothing.
"""
from __future__ import annotations

import hmac
import logging
from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr.actions import Say
from ivr.events import DigitsEntered, NoInput, SpeechHeard
from ivr.state import CallState
from routing import RoutingError
from webhooks.jsonio import http_error_response

log = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__, url_prefix="/twilio")

FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
UNANSWERED_LEG_STATUSES = {"busy", "failed", "no-answer", "canceled"}
CHANNEL = "twilio"  # how the router and the screen pop name this back-end


def _runtime():
    return current_app.extensions["onecall"]


def public_url_of_request(runtime) -> str:
    """The URL exactly as Twilio requested it (the string its signature covers).

    Read straight from the WSGI environ: werkzeug's `host_url` re-encodes the URL on every
    call, which is a visible share of a webhook turn.
    """
    environ = request.environ
    base = runtime.settings.public_url
    if base is None:
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        base = f"{environ['wsgi.url_scheme']}://{host}{environ.get('SCRIPT_NAME', '')}"
    query = environ.get("QUERY_STRING", "")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def signature_is_valid(validator: RequestValidator, url: str, params, signature: str) -> bool:
    """Twilio's check, computing the HMAC once for the usual case.

    `RequestValidator.validate` always computes it twice (URL with and without the port);
    the variants are only tried here when the URL as given does not match.
    """
    if hmac.compare_digest(validator.compute_signature(url, params).encode(), signature.encode()):
        return True
    return validator.validate(url, params, signature)


@bp.before_request
def check_twilio_signature():
    runtime = _runtime()
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form if request.method == "POST" else {}
    if not signature or not signature_is_valid(runtime.twilio_validator, public_url_of_request(runtime), params,
                                               signature):
        log.warning("refused a Twilio request with a %s signature: %s %s",
                    "missing" if not signature else "wrong", request.method, request.path)
        abort(403)


def twiml(document: str) -> Response:
    return Response(document, mimetype="text/xml")


def _call_sid() -> str:
    sid = request.form.get("CallSid", "")
    if not sid:
        abort(400, "CallSid is required")
    return sid


def _render(runtime, step) -> Response:
    return twiml(runtime.renderer.render(step.actions, runtime.twiml_urls, step.state.call_id))


@bp.post("/voice")
def incoming_call():
    runtime = _runtime()
    return _render(runtime, runtime.calls.start(_call_sid(), request.form.get("From", ""), CHANNEL))


def _continue_with(event) -> Response:
    runtime = _runtime()
    state = runtime.sessions.load(_call_sid())
    if state is None:
        # Unknown call (session expired or lost): the caller still reaches a person.
        return incoming_call()
    if state.finished and runtime.calls.still_routed(state.call_id):
        # A late or repeated request for a call already handed to the router: keep it waiting.
        return twiml(runtime.renderer.wait_for_agent(state.call_id, runtime.twiml_urls))
    return _render(runtime, runtime.calls.step(state, event, CHANNEL))


@bp.post("/gather")
def gathered():
    speech = request.form.get("SpeechResult", "").strip()
    digits = request.form.get("Digits", "").strip()
    if digits:
        return _continue_with(DigitsEntered(digits))
    if speech:
        try:
            confidence = float(request.form.get("Confidence", "0") or 0)
        except ValueError:
            confidence = 0.0
        return _continue_with(SpeechHeard(speech, confidence))
    return _continue_with(NoInput())


@bp.post("/no-input")
def no_input():
    return _continue_with(NoInput())


@bp.post("/wait")
def waiting():
    runtime = _runtime()
    call_sid = _call_sid()
    state = runtime.sessions.load(call_sid)
    language = state.language if state else runtime.config.hotline.default_language
    try:
        routed = runtime.routing.call(call_sid).state
    except RoutingError:
        routed = None  # not (or no longer) known to the router: a plain hold message
    if routed in ("waiting", "reserved"):
        runtime.liveness.seen(call_sid)
    position = runtime.routing.queue_position(call_sid) if routed == "waiting" else None
    agent_on_the_way = routed in ("reserved", "connected")
    return twiml(runtime.renderer.waiting(language, position, runtime.config.routing.wait_announcement_seconds,
                                          runtime.url("/twilio/wait"), agent_on_the_way=agent_on_the_way))


def _end_call(call_sid: str, reason: str) -> None:
    _runtime().calls.ended(call_sid, reason)


@bp.post("/queue-exit")
def queue_exit():
    _end_call(_call_sid(), "conference-ended")
    runtime = _runtime()
    return twiml(runtime.renderer.spoken_then_hangup(None))


@bp.post("/status")
def call_status():
    if request.form.get("CallStatus") in FINAL_CALL_STATUSES:
        _end_call(_call_sid(), f"caller-{request.form['CallStatus']}")
    return Response(status=204)


def _reservation_args() -> tuple[str, str]:
    call_id, agent_id = request.args.get("call", ""), request.args.get("agent", "")
    if not call_id or not agent_id:
        abort(400, "call and agent are required")
    return call_id, agent_id


@bp.post("/agent-answer")
def agent_answered():
    runtime = _runtime()
    call_id, agent_id = _reservation_args()
    state = runtime.sessions.load(call_id)
    language = state.language if state else runtime.config.hotline.default_language
    if not runtime.calls.agent_answered(call_id, agent_id):
        return twiml(runtime.renderer.spoken_then_hangup(Say("call_already_taken", language)))
    return twiml(runtime.renderer.agent_joins(call_id, Say("agent_whisper", language)))


@bp.post("/agent-status")
def agent_leg_status():
    runtime = _runtime()
    call_id, agent_id = _reservation_args()
    status = request.form.get("CallStatus", "")
    if status in UNANSWERED_LEG_STATUSES:
        runtime.calls.agent_missed(call_id, agent_id, status)
    elif status == "completed":
        # The agent hung up after talking: the call is over for the citizen too.
        _end_call(call_id, "agent-hung-up")
        runtime.dispatcher.forget_leg(call_id)
    return Response(status=204)


CALLER_TURNS = {"twilio.incoming_call", "twilio.gathered", "twilio.no_input", "twilio.waiting"}


@bp.errorhandler(Exception)
def keep_the_caller_on_the_line(error: Exception):
    """Whatever broke, a caller in the IVR is sent to the fallback queue, never hung up on."""
    if isinstance(error, HTTPException):
        return http_error_response(error)
    log.exception("Twilio webhook %s failed", request.path)
    call_sid = request.form.get("CallSid", "")
    if request.endpoint not in CALLER_TURNS or not call_sid:
        return Response(status=500)
    runtime = _runtime()
    try:
        fresh = CallState(call_id=call_sid, caller=request.form.get("From", ""), node=None,
                          language=runtime.config.hotline.default_language, intent=None, citizen_id=None,
                          verification="none", priority=0, attempts=0, finished=False)
        return _render(runtime, runtime.calls.take(runtime.interpreter.fallback(fresh, f"webhook error: {error!r}", runtime.registry), CHANNEL))
    except Exception:
        # Even routing failed (Redis unreachable?): hold the caller and try again shortly.
        log.exception("could not route call %s to the fallback queue; holding it", call_sid)
        response = VoiceResponse()
        response.pause(length=3)
        response.redirect(runtime.url("/twilio/no-input"), method="POST")
        return twiml(response.to_xml())
