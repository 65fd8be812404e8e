"""REST API for operations, behind `Authorization: Bearer $ONECALL_API_TOKEN`.

| method and path | what it does |
| --- | --- |
| GET /api/agents | every agent with state, skills and current call |
| POST /api/agents/<id>/status | `{"status": "available" / "break" / "offline"}` |
| GET /api/calls/waiting | waiting calls in queue order, with positions |
| POST /api/citizens | import citizens: a JSON object, a JSON list, or JSON lines |
| GET /api/citizens/<id> | one citizen's profile as agents see it |

Errors are JSON `{"error": <stable id>, "message": ..., "details": {...}}`: 401 wrong token, 400 bad body
(the field named), 404 unknown agent or citizen, 409 a change the agent's state forbids.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import asdict

from flask import Blueprint, current_app, jsonify, request

from hotline.citizens import parse_json_lines, parse_record
from hotline.errors import BadRequest, Unauthorized
from webhooks.jsonio import json_object_body

bp = Blueprint("api", __name__, url_prefix="/api")


def _web():
    return current_app.extensions["onecall"]


@bp.before_request
def require_token():
    expected = _web().api_token
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].strip().encode(), expected.encode()):
        raise Unauthorized("a valid 'Authorization: Bearer <ONECALL_API_TOKEN>' header is required")


@bp.get("/agents")
def list_agents():
    return jsonify({"agents": [asdict(agent) for agent in _web().routing.agents()]})


@bp.post("/agents/<agent_id>/status")
def set_agent_status(agent_id: str):
    agent, reservation = _web().desk.set_status(agent_id, json_object_body().get("status"))
    return jsonify({"agent": asdict(agent), "reserved_call": reservation.call_id if reservation else None})


@bp.get("/calls/waiting")
def waiting_calls():
    return jsonify({"calls": [asdict(call) for call in _web().routing.waiting_calls()]})


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
    return jsonify({"imported": _web().registry.import_records(records)}), 201


@bp.get("/citizens/<citizen_id>")
def citizen_profile(citizen_id: str):
    return jsonify(_web().desk.citizen_profile(citizen_id))
