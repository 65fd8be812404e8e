"""The agent desktop: log in, go available or on break, see the citizen's profile pop up
live the moment a call is reserved for you, close the call with an outcome note (kept in
the citizen's consultation history), then wrap up and become available again.

Each route calls one method of the application's `AgentDesk`. Pops arrive over
server-sent events relayed from the agent's Redis channel, so any web process can serve
any agent. Desktop POSTs must be JSON (which a cross-site form cannot send), and the
session cookie is SameSite=Lax.
"""
from __future__ import annotations

import hmac
import json
import time

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for

from hotline.errors import NotYourAgent, Unauthorized
from webhooks.jsonio import json_object_body

bp = Blueprint("desk", __name__, url_prefix="/desk")

HEARTBEAT_SECONDS = 10
MAX_STREAM_SECONDS = 300  # the browser's EventSource reconnects by itself


def _web():
    return current_app.extensions["onecall"]


def _agent_id() -> str:
    agent_id = session.get("agent_id")
    if not agent_id or _web().agent_config(agent_id) is None:
        raise Unauthorized("log in at /desk first")
    return agent_id


@bp.get("/")
def desk_page():
    agent_id = session.get("agent_id")
    agent = _web().agent_config(agent_id) if agent_id else None
    if agent is None:
        return render_template("login.html", error=request.args.get("error"))
    softphone = _web().desk.has_softphone(agent.id)
    return render_template("desk.html", agent=agent, hotline=_web().hotline, softphone=softphone,
                           agent_names=dict(_web().agent_names))


@bp.post("/login")
def login():
    agent_id = request.form.get("agent_id", "").strip()
    pin = request.form.get("pin", "")
    agent = _web().agent_config(agent_id)
    if agent is None or not hmac.compare_digest(agent.pin.encode(), pin.encode()):
        return redirect(url_for("desk.desk_page", error="unknown agent or wrong PIN"))
    session.clear()
    session["agent_id"] = agent.id
    return redirect(url_for("desk.desk_page"))


@bp.post("/logout")
def logout():
    agent_id = session.pop("agent_id", None)
    if agent_id:
        _web().desk.log_out(agent_id)
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
    _agent_id()
    return jsonify({"citizens": _web().desk.search_citizens(request.args)})


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
    desk, pops = _web().desk, _web().pops

    def stream():
        subscription = pops.subscribe(agent_id)
        try:
            yield _sse("state", desk.snapshot(agent_id))
            started = last_beat = time.monotonic()
            while time.monotonic() - started < MAX_STREAM_SECONDS:
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
