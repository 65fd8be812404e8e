"""The agent desktop: log in, go available or on break, see the citizen's profile pop up
live the moment a call is reserved for you, close the call with an outcome note (kept in
the citizen's consultation history), then wrap up and become available again.

Pops arrive over server-sent events relayed from the agent's Redis channel, so any web
process can serve any agent. Desktop POSTs must be JSON (which a cross-site form cannot
send), and the session cookie is SameSite=Lax.
"""
from __future__ import annotations

import hmac
import json
import time
from dataclasses import asdict
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for

from hotline.citizens import Consultation
from hotline.errors import BadRequest, NoSuchCitizen, Unauthorized
from routing import RoutingError
from webhooks.jsonio import json_object_body

bp = Blueprint("desk", __name__, url_prefix="/desk")

HEARTBEAT_SECONDS = 10
MAX_STREAM_SECONDS = 300  # the browser's EventSource reconnects by itself


def _runtime():
    return current_app.extensions["onecall"]


def _agent_id() -> str:
    agent_id = session.get("agent_id")
    if not agent_id or _runtime().config.agent(agent_id) is None:
        raise Unauthorized("log in at /desk first")
    return agent_id




@bp.get("/")
def desk_page():
    agent_id = session.get("agent_id")
    agent = _runtime().config.agent(agent_id) if agent_id else None
    if agent is None:
        return render_template("login.html", error=request.args.get("error"))
    return render_template("desk.html", agent=agent, hotline=_runtime().config.hotline)


@bp.post("/login")
def login():
    agent_id = request.form.get("agent_id", "").strip()
    pin = request.form.get("pin", "")
    agent = _runtime().config.agent(agent_id)
    if agent is None or not hmac.compare_digest(agent.pin.encode(), pin.encode()):
        return redirect(url_for("desk.desk_page", error="unknown agent or wrong PIN"))
    session.clear()
    session["agent_id"] = agent.id
    return redirect(url_for("desk.desk_page"))


@bp.post("/logout")
def logout():
    agent_id = session.pop("agent_id", None)
    if agent_id:
        try:
            _runtime().routing.set_status(agent_id, "offline")
        except RoutingError:
            pass  # on a call: the agent stays on it; the state shows on the next login
    return redirect(url_for("desk.desk_page"))


ON_A_CALL = ("reserved", "busy", "wrapup")


def _snapshot(agent_id: str, runtime=None) -> dict:
    """The agent and the pop on their desk; a pop is shown only while it is theirs to handle
    (a reservation that timed out or was given back leaves the agent on break, pop hidden)."""
    runtime = runtime or _runtime()
    agent = runtime.routing.agent(agent_id)
    pop = runtime.pops.current(agent_id) if agent.status in ON_A_CALL else None
    return {"agent": asdict(agent), "pop": pop}


@bp.get("/state")
def state():
    return jsonify(_snapshot(_agent_id()))


@bp.post("/status")
def set_status():
    agent_id = _agent_id()
    status = json_object_body().get("status")
    if status not in ("available", "break", "offline"):
        raise BadRequest("status", "must be available, break or offline")
    runtime = _runtime()
    runtime.dispatcher.dispatch(runtime.routing.set_status(agent_id, status))
    return jsonify(_snapshot(agent_id))


@bp.post("/outcome")
def close_call():
    """End the agent's current call (if still connected) and record its outcome."""
    agent_id = _agent_id()
    note = str(json_object_body().get("note", "")).strip()
    if not note:
        raise BadRequest("note", "write what was done for the citizen")
    runtime = _runtime()
    pop = runtime.pops.current(agent_id)
    if pop is None:
        raise BadRequest("call", "there is no call on your desk to close")
    call_id = pop["call"]["id"]
    record = runtime.routing.call(call_id)
    if record.state == "reserved":
        raise BadRequest("call", "answer the call before closing it")
    if record.state == "connected":
        runtime.dispatcher.hang_up_agent_leg(call_id)
        runtime.dispatcher.dispatch(runtime.routing.end_call(call_id, "agent-closed"))
    citizen = pop.get("citizen") or {}
    if citizen.get("identified"):
        consultation = Consultation(at=datetime.now(timezone.utc), department=pop["call"]["skill"],
                                    agent=agent_id, summary=note)
        try:
            runtime.registry.add_consultation(citizen["id"], consultation)
        except NoSuchCitizen:
            pass
    runtime.pops.clear(agent_id)
    return jsonify(_snapshot(agent_id))


@bp.post("/ready")
def ready():
    agent_id = _agent_id()
    runtime = _runtime()
    runtime.dispatcher.dispatch(runtime.routing.finish_wrapup(agent_id))
    return jsonify(_snapshot(agent_id))


@bp.get("/events")
def events():
    agent_id = _agent_id()
    runtime = _runtime()
    channel = runtime.pops.channel(agent_id)

    def stream():
        pubsub = runtime.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel)
        try:
            yield _sse("state", _snapshot(agent_id, runtime))
            started = last_beat = time.monotonic()
            while time.monotonic() - started < MAX_STREAM_SECONDS:
                message = pubsub.get_message(timeout=1.0)
                if message is not None:
                    event = json.loads(message["data"])
                    yield _sse(event["kind"], event["data"])
                    yield _sse("state", _snapshot(agent_id, runtime))
                elif time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                    last_beat = time.monotonic()
                    yield _sse("state", _snapshot(agent_id, runtime))
        finally:
            pubsub.close()

    return Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
