"""The agent desktop: log in, go available or on break, see the citizen's profile pop up
live the moment a call is reserved for you, close the call with an outcome note (kept in
the citizen's consultation history), then wrap up and become available again.

Each route calls one method of the application's `AgentDesk`. Pops arrive over
server-sent events relayed from the agent's Redis channel, so any web process can serve
any agent. Desktop POSTs must be JSON (which a cross-site form cannot send), and the
session cookie is SameSite=Lax. The cookie names a session kept in Redis
(`hotline.desk_auth`): logging out ends it for every copy of the cookie.
"""
from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for

from hotline.errors import LoginFailed, LoginLocked, NotYourAgent, Unauthorized
from webhooks.jsonio import json_object_body

bp = Blueprint("desk", __name__, url_prefix="/desk")

HEARTBEAT_SECONDS = 10
MAX_STREAM_SECONDS = 300  # the browser's EventSource reconnects by itself


def _web():
    return current_app.extensions["onecall"]


def _agent_id() -> str:
    """The agent of this request's desk session (the cookie names a session kept in Redis)."""
    agent_id = _web().desk_login.agent_of(session.get("sid"))
    if agent_id is None:
        raise Unauthorized("log in at /desk first")
    return agent_id


@bp.get("/")
def desk_page():
    agent_id = _web().desk_login.agent_of(session.get("sid"))
    if agent_id is None:
        return render_template("login.html")
    return render_template("desk.html", agent=_web().agent_config(agent_id), hotline=_web().hotline,
                           softphone=_web().desk.has_softphone(agent_id), agent_names=dict(_web().agent_names))


@bp.post("/login")
def login():
    agent_id = request.form.get("agent_id", "").strip()
    try:
        session_id = _web().desk_login.log_in(agent_id, request.form.get("pin", ""), request.remote_addr or "",
                                              replacing=session.get("sid"))
    except LoginLocked as exc:
        page = render_template("login.html", error="locked", minutes=(exc.retry_after + 59) // 60)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    except LoginFailed:
        return render_template("login.html", error="failed"), 401
    session.clear()
    session["sid"] = session_id
    return redirect(url_for("desk.desk_page"))


@bp.post("/logout")
def logout():
    _web().desk_login.log_out(session.pop("sid", None))
    session.clear()
    return redirect(url_for("desk.desk_page"))


@bp.get("/state")
def state():
    return jsonify(_web().desk.snapshot(_agent_id()))


@bp.post("/status")
def set_status():
    agent_id = _agent_id()
    _web().desk.set_status(agent_id, json_object_body().get("status"))
    return jsonify(_web().desk.snapshot(agent_id))


@bp.post("/outcome")
def close_call():
    """End the agent's last answered call (if still connected) and record its outcome."""
    agent_id = _agent_id()
    body = json_object_body()
    _web().desk.close_call(agent_id, str(body.get("note", "")), str(body.get("call_id") or "") or None)
    return jsonify(_web().desk.snapshot(agent_id))


@bp.post("/extend")
def extend_wrapup():
    agent_id = _agent_id()
    _web().desk.extend_wrapup(agent_id)
    return jsonify(_web().desk.snapshot(agent_id))


@bp.get("/citizens")
def search_citizens():
    return jsonify({"citizens": _web().desk.search_citizens(_agent_id(), request.args)})


@bp.post("/identify")
def identify_caller():
    agent_id = _agent_id()
    body = json_object_body()
    _web().desk.identify_caller(agent_id, str(body.get("call_id", "")), str(body.get("citizen_id", "")))
    return jsonify(_web().desk.snapshot(agent_id))


@bp.post("/ready")
def ready():
    agent_id = _agent_id()
    _web().desk.finish_wrapup(agent_id)
    return jsonify(_web().desk.snapshot(agent_id))


@bp.get("/voice-token")
def voice_token():
    """A Twilio Voice access token for the logged-in agent's softphone, and for no one else."""
    agent_id = _agent_id()
    if request.args.get("agent", agent_id) != agent_id:
        raise NotYourAgent("다른 상담원의 토큰은 받을 수 없습니다 / a desk gets only its own agent's token")
    response = jsonify(_web().desk.voice_token(agent_id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events")
def events():
    agent_id = _agent_id()
    desk, pops, login, session_id = _web().desk, _web().pops, _web().desk_login, session.get("sid")

    def stream():
        subscription = pops.subscribe(agent_id)
        try:
            yield _sse("state", desk.snapshot(agent_id))
            started = last_beat = time.monotonic()
            # A logout anywhere ends the stream within a second, for every copy of the cookie.
            while time.monotonic() - started < MAX_STREAM_SECONDS and login.agent_of(session_id) == agent_id:
                event = subscription.next(timeout=1.0)
                if event is not None:
                    yield _sse(*event)
                    yield _sse("state", desk.snapshot(agent_id))
                elif time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                    last_beat = time.monotonic()
                    yield _sse("state", desk.snapshot(agent_id))
        finally:
            subscription.close()

    return Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
