"""REST API for operations, behind `Authorization: Bearer $ONECALL_API_TOKEN`.

| method and path | what it does |
| --- | --- |
| GET /api/agents | every agent with state, skills and current call |
| POST /api/agents/<id>/status | `{"status": "available" / "break" / "offline"}` |
| GET /api/calls/waiting | waiting calls in queue order, with positions |
| POST /api/citizens | import citizens: a JSON object, a JSON list, or JSON lines |
| GET /api/citizens/<id> | one citizen's profile as agents see it (recorded as a profile view) |
| GET /api/lockouts | agent ids and client addresses whose desk logins are locked |
| DELETE /api/lockouts/<kind>/<id> | kind `agent` or `address`: lift a lockout, forget the wrong PINs counted |
| GET /api/audit/profile-views | who saw which citizen's profile: `?citizen=&agent=&since=&limit=` |

Errors are JSON `{"error": <stable id>, "message": ..., "details": {...}}`: 401 wrong token, 400 bad body
(the field named; a refused citizen import lists every problem in `details.problems`, each
`{"line", "field", "reason"}`), 404 unknown agent, citizen or lockout, 409 a change the agent's
state forbids.
"""
from __future__ import annotations

import hmac
from dataclasses import asdict

from flask import Blueprint, current_app, jsonify, request

from hotline.citizens import parse_json_body, parse_json_lines
from hotline.errors import BadRequest, CitizensRefused, ImportProblem, Unauthorized
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
    agents = _web().routing.agents()
    logins = _web().login_throttle.agent_logins([agent.agent_id for agent in agents])
    return jsonify({"agents": [{**asdict(agent), "login": logins[agent.agent_id]} for agent in agents]})


@bp.post("/agents/<agent_id>/status")
def set_agent_status(agent_id: str):
    agent, reservation = _web().desk.set_status(agent_id, json_object_body().get("status"))
    return jsonify({"agent": asdict(agent), "reserved_call": reservation.call_id if reservation else None})


@bp.get("/calls/waiting")
def waiting_calls():
    return jsonify({"calls": [asdict(call) for call in _web().routing.waiting_calls()]})


@bp.post("/citizens")
def import_citizens():
    text = request.get_data(as_text=True)
    if request.mimetype in ("application/x-ndjson", "application/jsonl", "text/plain"):
        batch = parse_json_lines(text.splitlines())
    else:
        batch = parse_json_body(text)
    if not batch.records and not batch.problems:
        raise CitizensRefused([ImportProblem(None, "(body)", "holds no citizen records")])
    return jsonify({"imported": _web().registry.import_records(batch)}), 201


@bp.get("/citizens/<citizen_id>")
def citizen_profile(citizen_id: str):
    return jsonify(_web().desk.citizen_profile(citizen_id, address=request.remote_addr or ""))


@bp.get("/lockouts")
def lockouts():
    return jsonify({"lockouts": _web().login_throttle.lockouts()})


@bp.delete("/lockouts/<kind>/<path:subject>")
def clear_lockout(kind: str, subject: str):
    _web().login_throttle.clear(kind, subject)
    return jsonify({"cleared": {"kind": kind, "id": subject}})


@bp.get("/audit/profile-views")
def profile_views():
    args = request.args
    return jsonify(_web().views.query(citizen=args.get("citizen") or None, agent=args.get("agent") or None,
                                      since=args.get("since") or None, limit=_int_arg("limit", 100)))


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise BadRequest(name, "must be a positive whole number")
    return int(value)
