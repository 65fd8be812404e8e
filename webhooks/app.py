"""The Flask application factory.

`create_app(web)` builds one OneCall web process from the `WebServices` the composition
root hands it (`onecall.composition`): Twilio webhooks, the agent desktop, the REST API,
rendered prompt audio and a health check. Tests build the app with their own config and
Redis the same way.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from hotline.agents import AgentDesk
from hotline.audio.render import PromptAudio
from hotline.audit import ProfileViews
from hotline.citizens import CitizenRegistry
from hotline.config import AgentConfig, HotlineConfig
from hotline.desk_auth import DeskLogin, LoginThrottle
from hotline.errors import OneCallError
from hotline.screenpop import ScreenPops
from routing import RoutingStore
from webhooks.forms import OneCallRequest
from webhooks.jsonio import error_response, http_error_response
from webhooks.limits import refuse_large_bodies


class TwilioTurns(Protocol):
    """What the web tier asks of the Twilio driver (`telephony.twilio.voice.TwilioVoice`)."""

    def incoming(self, call_sid: str, caller: str) -> str: ...
    def gathered(self, call_sid: str, caller: str, digits: str, speech: str, confidence: str) -> str: ...
    def no_input(self, call_sid: str, caller: str) -> str: ...
    def waiting(self, call_sid: str) -> str: ...
    def queue_exit(self, call_sid: str) -> str: ...
    def call_status(self, call_sid: str, status: str) -> None: ...
    def agent_answered(self, call_id: str, agent_id: str) -> str: ...
    def agent_leg_status(self, call_id: str, agent_id: str, status: str) -> None: ...
    def keep_on_the_line(self, call_sid: str, caller: str, error: Exception) -> str: ...


class SignatureCheck(Protocol):
    """`telephony.twilio.signature.TwilioSignatureCheck`."""

    def is_valid(self, environ: dict, path: str, params, signature: str) -> bool: ...


@dataclass(frozen=True)
class WebServices:
    """Everything the web tier uses, built by the composition root."""

    twilio_voice: TwilioTurns
    twilio_signature: SignatureCheck
    desk: AgentDesk
    desk_login: DeskLogin
    login_throttle: LoginThrottle
    views: ProfileViews
    pops: ScreenPops
    registry: CitizenRegistry
    routing: RoutingStore
    prompt_audio: PromptAudio
    agent_config: Callable[[str], AgentConfig | None]
    hotline: HotlineConfig
    api_token: str
    secret_key: str
    ping: Callable[[], object]  # raises when Redis does not answer
    agent_names: Mapping[str, str] = field(default_factory=dict)  # agent id -> name, for the desk


class DesktopSessions(SecureCookieSessionInterface):
    """Cookie sessions only where they are used (the agent desktop); Twilio and API
    requests skip building the cookie signer on every webhook turn."""

    def open_session(self, app, request):
        if request.path.startswith("/desk"):
            return super().open_session(app, request)
        return None  # Flask substitutes an empty, read-only NullSession


def create_app(web: WebServices) -> Flask:
    app = Flask(__name__)
    app.request_class = OneCallRequest
    app.config.update(SECRET_KEY=web.secret_key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.session_interface = DesktopSessions()
    app.before_request(lambda: refuse_large_bodies(request))
    app.extensions["onecall"] = web

    from webhooks import api, audio_files, desk, twilio_voice

    app.register_blueprint(twilio_voice.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(audio_files.bp)

    @app.get("/healthz")
    def health():
        web.ping()
        return {"status": "ok", "hotline": web.hotline.id}

    @app.errorhandler(OneCallError)
    def onecall_error(error: OneCallError):
        return error_response(error.error_id, error.message, error.details, error.http_status)

    app.register_error_handler(HTTPException, http_error_response)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app
