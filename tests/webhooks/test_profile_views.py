"""Every time a citizen's profile is shown (the pop, the desk, the API) it is recorded who saw
it, when and through which call, and operators read it through the API. Logs hold no
personal data of the citizen."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from tests.conftest import API_TOKEN, wait_for
from tests.webhooks.helpers import KNOWN_CALLER, UNKNOWN_CALLER, dial_in, new_call_sid, twiml

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
ROOT = Path(__file__).resolve().parents[2]


def _desk(app, agent_id="kim.minji", pin="1001"):
    desk = app.test_client()
    assert desk.post("/desk/login", data={"agent_id": agent_id, "pin": pin}).status_code == 302
    return desk


def _views(client, **query) -> list[dict]:
    response = client.get("/api/audit/profile-views", query_string=query, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["views"]


def _first_sse(desk) -> tuple[str, dict]:
    stream = desk.get("/desk/events", buffered=False)
    chunk = next(iter(stream.response))
    stream.close()
    text = chunk.decode() if isinstance(chunk, bytes) else chunk
    return text.split("\n", 1)[0].removeprefix("event: "), json.loads(text.split("data: ", 1)[1])


def test_pop_desk_and_api_views_are_recorded_with_viewer_call_and_time(app, client, twilio, twilio_api):
    desk = _desk(app)
    desk.post("/desk/status", json={"status": "available"})
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, KNOWN_CALLER, "1", "2")
    wait_for(lambda: twilio_api.calls)

    assert [(v["surface"], v["viewer"], v["call"]) for v in _views(client, citizen="C-0001")] == [
        ("pop", "kim.minji", call_sid)]

    for _ in range(3):  # the desk polls its state: one view of this call on the desk, not three
        assert desk.get("/desk/state").get_json()["pop"]["citizen"]["id"] == "C-0001"
    kind, snapshot = _first_sse(desk)
    assert kind == "state" and snapshot["pop"]["citizen"]["id"] == "C-0001"

    assert client.get("/api/citizens/C-0001", headers=AUTH).status_code == 200
    assert client.get("/api/citizens/C-0001", headers=AUTH).status_code == 200  # every API lookup counts

    views = _views(client, citizen="C-0001")
    assert [(v["surface"], v["viewer"], v["call"]) for v in views] == [
        ("pop", "kim.minji", call_sid), ("desk", "kim.minji", call_sid), ("api", "api", None), ("api", "api", None)]
    assert all(v["citizen"] == "C-0001" and v["at"].endswith("+00:00") for v in views)
    assert views[2]["address"] == "127.0.0.1"
    assert [v["surface"] for v in _views(client, agent="kim.minji")] == ["pop", "desk"]
    assert [v["surface"] for v in _views(client, citizen="C-0001", agent="api")] == ["api", "api"]
    assert _views(client, citizen="C-0002") == []


def test_views_are_paged_from_since(app, client):
    for _ in range(5):
        client.get("/api/citizens/C-0002", headers=AUTH)
    everything = _views(client)
    assert len(everything) == 5
    page = client.get("/api/audit/profile-views", query_string={"since": "0", "limit": 3}, headers=AUTH).get_json()
    assert [v["id"] for v in page["views"]] == [v["id"] for v in everything[:3]]
    rest = _views(client, since=page["next"])
    assert [v["id"] for v in rest] == [v["id"] for v in everything[3:]]
    assert [v["id"] for v in _views(client, limit=2)] == [v["id"] for v in everything[3:]]  # the latest two
    assert _views(client, since="2999-01-01T00:00:00+09:00") == []


def test_bad_audit_queries_name_the_field(client):
    for query, field in (({"since": "yesterday"}, "since"), ({"since": "2026-12-01T09:00:00"}, "since"),
                         ({"limit": "-3"}, "limit")):
        response = client.get("/api/audit/profile-views", query_string=query, headers=AUTH)
        assert response.status_code == 400 and response.get_json()["details"]["field"] == field
    assert client.get("/api/audit/profile-views").status_code == 401


def test_a_call_of_an_unknown_caller_records_no_profile_view(app, client, twilio, twilio_api):
    desk = _desk(app)
    desk.post("/desk/status", json={"status": "available"})
    dial_in(twilio, new_call_sid(), UNKNOWN_CALLER, "1", "2", *["00000000"] * 3)  # not in the registry
    wait_for(lambda: twilio_api.calls)
    assert desk.get("/desk/state").get_json()["pop"]["citizen"]["identified"] is False
    assert _views(client) == []


def _personal_data(citizen_id: str) -> list[str]:
    for line in (ROOT / "demo" / "citizens.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["id"] == citizen_id:
            items = record.get("open_items", [])
            local_phones = ["0" + phone[3:] for phone in record["phones"]]  # +8210... as typed: 010...
            return ([record["name"], record["registry_number"], record["address"], *record["phones"], *local_phones]
                    + [item["reference"] for item in items])
    raise AssertionError(citizen_id)


def test_a_whole_call_logs_no_personal_data_of_the_citizen(web, app, client, twilio, twilio_api, caplog):
    caplog.set_level(logging.DEBUG)
    desk = _desk(app)
    desk.post("/desk/status", json={"status": "available"})
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, KNOWN_CALLER, "1", "2")
    leg = wait_for(lambda: twilio_api.calls)[0]
    agent_leg = {"CallSid": leg.sid, "From": leg.from_, "To": leg.to, "CallStatus": "in-progress",
                 "Direction": "outbound-api"}
    twiml(twilio.post(leg.url, agent_leg))
    assert desk.get("/desk/state").get_json()["pop"]["citizen"]["name"] == "김영희"
    assert desk.post("/desk/outcome", json={"note": "과태료 납부 방법 안내"}).status_code == 200
    client.get("/api/citizens/C-0001", headers=AUTH)
    wait_for(lambda: web.application.routing.agent("kim.minji").status == "wrapup")

    records = caplog.records
    assert records, "the call logged nothing at all: the check would prove nothing"
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in records)
    leaked = [value for value in _personal_data("C-0001") if value in logged]
    assert leaked == []


def test_the_next_call_of_the_same_citizen_is_a_new_desk_view(web, app, client, twilio, twilio_api):
    desk = _desk(app)
    desk.post("/desk/status", json={"status": "available"})
    calls = []
    for round_ in range(2):
        call_sid = new_call_sid()
        calls.append(call_sid)
        dial_in(twilio, call_sid, KNOWN_CALLER, "1", "2")
        leg = wait_for(lambda: len(twilio_api.calls) > round_ and twilio_api.calls[round_])
        twiml(twilio.post(leg.url, {"CallSid": leg.sid, "From": leg.from_, "To": leg.to,
                                    "CallStatus": "in-progress", "Direction": "outbound-api"}))
        desk.get("/desk/state")
        desk.get("/desk/state")
        assert desk.post("/desk/outcome", json={"note": f"상담 {round_ + 1}"}).status_code == 200
        desk.post("/desk/ready")
    desk_views = [v["call"] for v in _views(client, citizen="C-0001") if v["surface"] == "desk"]
    assert desk_views == calls
