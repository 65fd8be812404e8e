"""Twilio voice webhooks in, TwiML out: each route parses Twilio's form, calls one method
of the Twilio driver (`telephony.twilio.voice.TwilioVoice`, whose docstring tables what
each URL means) and returns its document.

Every request's X-Twilio-Signature is checked once, in `before_request`, against the
public URL Twilio used (ONECALL_PUBLIC_URL when behind a proxy); a bad one gets 403 and
changes nothing.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from werkzeug.exceptions import HTTPException

from telephony.twilio import urls
from webhooks.jsonio import http_error_response

log = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__, url_prefix=urls.PREFIX)


def _voice():
    return current_app.extensions["onecall"].twilio_voice


@bp.before_request
def check_twilio_signature():
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form if request.method == "POST" else {}
    if not current_app.extensions["onecall"].twilio_signature.is_valid(request.environ, request.path, params,
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


def _caller() -> str:
    return request.form.get("From", "")


@bp.post(urls.VOICE)
def incoming_call():
    return twiml(_voice().incoming(_call_sid(), _caller()))


@bp.post(urls.GATHER)
def gathered():
    form = request.form
    return twiml(_voice().gathered(_call_sid(), _caller(), form.get("Digits", "").strip(),
                                   form.get("SpeechResult", "").strip(), form.get("Confidence", "")))


@bp.post(urls.NO_INPUT)
def no_input():
    return twiml(_voice().no_input(_call_sid(), _caller()))


@bp.post(urls.WAIT)
def waiting():
    return twiml(_voice().waiting(_call_sid()))


@bp.post(urls.QUEUE_EXIT)
def queue_exit():
    return twiml(_voice().queue_exit(_call_sid()))


@bp.post(urls.STATUS)
def call_status():
    _voice().call_status(_call_sid(), request.form.get("CallStatus", ""))
    return Response(status=204)


def _leg_args() -> tuple[str, str, str]:
    """The call, agent and leg name an agent leg's URLs carry (`TwilioUrls.agent_leg`)."""
    call_id, agent_id = request.args.get("call", ""), request.args.get("agent", "")
    if not call_id or not agent_id:
        abort(400, "call and agent are required")
    return call_id, agent_id, request.args.get("leg", "")


@bp.post(urls.AGENT_ANSWER)
def agent_answered():
    return twiml(_voice().agent_answered(*_leg_args()))


@bp.post(urls.AGENT_STATUS)
def agent_leg_status():
    _voice().agent_leg_status(*_leg_args(), request.form.get("CallStatus", ""))
    return Response(status=204)


# The hold loop (`twilio.waiting`) is not one: it answers hold TwiML even when it fails.
CALLER_TURNS = {"twilio.incoming_call", "twilio.gathered", "twilio.no_input"}


@bp.errorhandler(Exception)
def keep_the_caller_on_the_line(error: Exception):
    """Whatever broke, a caller in the IVR is sent to the fallback queue, never hung up on."""
    if isinstance(error, HTTPException):
        return http_error_response(error)
    log.exception("Twilio webhook %s failed", request.path)
    call_sid = request.form.get("CallSid", "")
    if request.endpoint not in CALLER_TURNS or not call_sid:
        return Response(status=500)
    return twiml(_voice().keep_on_the_line(call_sid, _caller(), error))
