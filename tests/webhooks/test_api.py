"""The operations REST API: bearer token, agent status, waiting calls, citizen import."""
from __future__ import annotations

import json

from tests.conftest import API_TOKEN
from tests.webhooks.helpers import dial_in, new_call_sid, set_status

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def test_wrong_or_missing_token_is_401_and_changes_nothing(web, app, client):
    application = web.application
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": API_TOKEN}):
        response = client.post("/api/agents/kim.minji/status", json={"status": "available"}, headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"
    assert application.routing.agent("kim.minji").status == "offline"


def test_set_status_and_list_agents(client):
    response = set_status(client, "kim.minji", "available")
    assert response.status_code == 200
    assert response.get_json()["agent"]["status"] == "available"
    agents = {a["agent_id"]: a for a in client.get("/api/agents", headers=AUTH).get_json()["agents"]}
    assert len(agents) == 12
    assert agents["kim.minji"]["status"] == "available"
    assert agents["lee.jiwon"]["status"] == "offline"


def test_bad_bodies_name_the_field(client):
    response = client.post("/api/agents/kim.minji/status", json={"status": "sleeping"}, headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["details"]["field"] == "status"
    response = client.post("/api/agents/kim.minji/status", data="not json", headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["details"]["field"] == "(body)"
    response = client.post("/api/agents/nobody/status", json={"status": "available"}, headers=AUTH)
    assert response.status_code == 404
    assert response.get_json()["error"] == "no-such-agent"


def test_waiting_calls_in_order(client, twilio):
    first, second = new_call_sid(), new_call_sid()
    dial_in(twilio, first, "+821055501234", "1", "4")
    dial_in(twilio, second, "+821098765432", "1", "4")
    calls = client.get("/api/calls/waiting", headers=AUTH).get_json()["calls"]
    assert [(c["call_id"], c["position"], c["skill"]) for c in calls] == [(first, 1, "welfare"), (second, 2, "welfare")]


def test_import_citizens_json_lines_and_object(web, app, client):
    application = web.application
    lines = "\n".join(json.dumps(r) for r in [
        {"id": "C-9001", "name": "정다은", "phones": ["010-2222-3333"], "registry_number": "90010001",
         "open_items": [{"department": "water", "kind": "하수도 요금", "amount": 12000}]},
        {"id": "C-9002", "name": "Ana Lima", "phones": ["+821044445555"]},
    ])
    response = client.post("/api/citizens", data=lines, content_type="application/x-ndjson", headers=AUTH)
    assert response.status_code == 201 and response.get_json() == {"imported": 2}
    assert application.registry.find_by_phone("+821022223333").citizen_id == "C-9001"
    assert application.registry.find_by_registry_number("90010001").citizen_id == "C-9001"
    profile = client.get("/api/citizens/C-9001", headers=AUTH).get_json()
    assert profile["open_items"][0]["department_name"] == "상하수도"

    response = client.post("/api/citizens", json={"id": "C-9003", "name": "x", "open_items": [{"department": "water"}]},
                           headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["details"]["problems"] == [
        {"line": None, "field": "open_items[0].kind", "reason": "is required"},
        {"line": None, "field": "open_items[0].amount", "reason": "is required"}]
    bad_line = lines + "\n{\"id\": \"C-9004\"}"
    response = client.post("/api/citizens", data=bad_line, content_type="application/x-ndjson", headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["details"]["problems"] == [{"line": 3, "field": "name", "reason": "is required"}]
    assert client.get("/api/citizens/C-9004", headers=AUTH).status_code == 404


def test_a_refused_import_lists_every_problem_of_every_line_and_imports_nothing(web, client):
    taken = client.post("/api/citizens", json={"id": "C-9100", "name": "a", "registry_number": "91000001"},
                        headers=AUTH)
    assert taken.status_code == 201
    lines = "\n".join(json.dumps(r) for r in [
        {"id": "C-9101", "name": "good"},
        {"id": "C-9102", "name": "takes a number", "registry_number": "91000001"},
        {"id": "C-9103", "name": "bad phone", "phones": ["010-1234-abcd"]},
        {"id": "C-9104", "name": "bad department", "open_items": [{"department": "parks", "kind": "x", "amount": 1}]},
        {"id": "C-9105"},
    ])
    response = client.post("/api/citizens", data=lines, content_type="application/x-ndjson", headers=AUTH)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid-request"
    assert [(p["line"], p["field"]) for p in body["details"]["problems"]] == [
        (2, "registry_number"), (3, "phones[0]"), (4, "open_items[0].department"), (5, "name")]
    assert "C-9100" in body["details"]["problems"][0]["reason"] and "C-9102" in body["details"]["problems"][0]["reason"]
    for citizen_id in ("C-9101", "C-9102", "C-9103", "C-9104"):
        assert client.get(f"/api/citizens/{citizen_id}", headers=AUTH).status_code == 404
    assert web.application.registry.find_by_registry_number("91000001").citizen_id == "C-9100"


def test_a_json_array_names_each_item_by_its_position(client):
    response = client.post("/api/citizens", json=[{"id": "C-9201", "name": "a"}, {"id": "C-9202", "phones": ["x"]}],
                           headers=AUTH)
    assert response.status_code == 400
    assert [(p["line"], p["field"]) for p in response.get_json()["details"]["problems"]] == [(2, "name")]
    assert client.get("/api/citizens/C-9201", headers=AUTH).status_code == 404


def test_every_error_has_one_shape(client, twilio):
    """Application, routing and HTTP errors alike: {"error", "message", "details"}."""
    responses = [
        client.get("/api/agents"),  # 401 unauthorized (application)
        client.post("/api/agents/kim.minji/status", json={"status": "sleeping"}, headers=AUTH),  # 400
        client.post("/api/agents/nobody/status", json={"status": "available"}, headers=AUTH),  # 404 (routing)
        client.get("/api/citizens/nobody", headers=AUTH),  # 404 (application)
        client.get("/api/no-such-route", headers=AUTH),  # 404 (HTTP)
        client.post("/twilio/voice", data={"CallSid": "CA1"}),  # 403 forged
        twilio.post("/twilio/agent-answer", {"CallSid": "CA1"}),  # 400 (HTTP abort)
    ]
    for response in responses:
        body = response.get_json()
        assert response.status_code >= 400 and set(body) == {"error", "message", "details"}, body
        assert isinstance(body["error"], str) and isinstance(body["details"], dict)
