"""REST API for operations, behind `Authorization: Bearer $ONECALL_API_TOKEN`.

| method and path | what it does |
| --- | --- |
| GET /api/agents | every agent with state, skills and current call |
| POST /api/agents/<id>/status | `{"status": "available" / "break" / "offline"}` |
| GET /api/calls/waiting | waiting calls in queue order, with positions |
| POST /api/citizens | import citizens: a JSON object, a JSON list, or JSON lines |
| GET /api/citizens/<id> | one citizen's profile as agents see it |

Errors are JSON `{"error": <stable id>, "message": ...}`: 401 wrong token, 400 bad body
(the field named), 404 unknown agent or citizen, 409 a change the agent's state forbids.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import asdict

from flask import Blueprint, current_app, jsonify, request

from hotline.citizens import parse_json_lines, parse_record
from hotline.errors import BadRequest, Unauthorized
from hotline.profile import build_profile
from webhooks.jsonio import json_object_body

bp = Blueprint("api", __name__, url_prefix="/api")

SETTABLE_STATUSES = ("available", "break", "offline")


def _runtime():
    return current_app.extensions["onecall"]


@bp.before_request
def require_token():
    expected = _runtime().settings.api_token
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].strip().encode(), expected.encode()):
        raise Unauthorized("a valid 'Authorization: Bearer <ONECALL_API_TOKEN>' header is required")




@bp.get("/agents")
def list_agents():
    return jsonify({"agents": [asdict(agent) for agent in _runtime().routing.agents()]})


@bp.post("/agents/<agent_id>/status")
def set_agent_status(agent_id: str):
    status = json_object_body().get("status")
    if status not in SETTABLE_STATUSES:
        raise BadRequest("status", f"must be one of {', '.join(SETTABLE_STATUSES)}")
    runtime = _runtime()
    reservation = runtime.routing.set_status(agent_id, status)
    runtime.dispatcher.dispatch(reservation)
    return jsonify({"agent": asdict(runtime.routing.agent(agent_id)),
                    "reserved_call": reservation.call_id if reservation else None})


@bp.get("/calls/waiting")
def waiting_calls():
    return jsonify({"calls": [asdict(call) for call in _runtime().routing.waiting_calls()]})


@bp.post("/citizens")
def import_citizens():
    if request.mimetype in ("application/x-ndjson", "application/jsonl", "text/plain"):
        records = parse_json_lines(request.get_data(as_text=True).splitlines())
    else:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except json.JSONDecodeError as exc:
            raise BadRequest("(body)", f"is not valid JSON ({exc.msg})") from None
        items = body if isinstance(body, list) else [body]
        records = [parse_record(item, f"[{index}]" if isinstance(body, list) else "") for index, item in enumerate(items)]
    if not records:
        raise BadRequest("(body)", "holds no citizen records")
    imported = _runtime().registry.import_records(records)
    return jsonify({"imported": imported}), 201


@bp.get("/citizens/<citizen_id>")
def citizen_profile(citizen_id: str):
    runtime = _runtime()
    runtime.registry.get(citizen_id)  # 404 for an unknown id
    names = {skill: cfg.name[runtime.config.hotline.default_language] for skill, cfg in runtime.config.skills.items()}
    return jsonify(build_profile(runtime.registry, citizen_id, "lookup", "", names))
