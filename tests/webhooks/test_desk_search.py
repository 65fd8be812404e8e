"""An unidentified caller: the agent searches the registry (name and birth year, phone,
registry number) and attaches the call, and its outcome, to the citizen found."""
from __future__ import annotations

from tests.webhooks.helpers import UNKNOWN_CALLER
from tests.webhooks.test_desk import _login
from tests.webhooks.test_desk_outcomes import AGENT, take_call


def _found(desk, **query):
    reply = desk.get("/desk/citizens", query_string=query)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return [c["id"] for c in reply.get_json()["citizens"]]


def test_the_registry_is_searched_by_name_and_birth_year_phone_or_number(app):
    desk = _login(app)
    assert _found(desk, name="김영희", birth_year="1951") == ["C-0001"]
    assert _found(desk, name="john  miller", birth_year="1986") == ["C-0002"]
    assert _found(desk, name="김영희", birth_year="1952") == []
    assert _found(desk, phone="010-1234-5678") == ["C-0001"]
    assert _found(desk, registry_number="34567890") == ["C-0003"]
    summary = desk.get("/desk/citizens", query_string={"phone": "010-1234-5678"}).get_json()["citizens"][0]
    assert summary == {"id": "C-0001", "name": "김영희", "birth_year": 1951, "address": "서울 종로구 세종대로 110"}


def test_a_search_needs_a_query_and_a_logged_in_agent(app):
    refused = _login(app).get("/desk/citizens", query_string={"name": "김영희"})
    assert refused.status_code == 400 and refused.get_json()["details"]["field"] == "query"
    assert app.test_client().get("/desk/citizens", query_string={"phone": "01012345678"}).status_code == 401


def test_a_renamed_citizen_is_not_found_by_the_old_name(web, app):
    registry = web.application.registry
    record = registry.get("C-0003")
    from hotline.citizens import parse_record
    registry.import_records([parse_record({**record, "name": "박철민"})])
    desk = _login(app)
    assert _found(desk, name="박철수", birth_year="1978") == []
    assert _found(desk, name="박철민", birth_year="1978") == ["C-0003"]


def test_the_agent_identifies_an_unknown_caller_and_the_note_joins_their_history(web, app, twilio, twilio_api):
    desk = _login(app)
    call_sid = take_call(twilio, twilio_api, desk, caller=UNKNOWN_CALLER)
    state = desk.post("/desk/identify", json={"call_id": call_sid, "citizen_id": "C-0003"}).get_json()
    citizen = state["pop"]["citizen"]
    assert citizen["id"] == "C-0003" and citizen["verification"] == "agent"
    assert citizen["verification_label"] == "identified by the agent"
    assert state["pop"]["call"]["verification"] == "agent"
    assert desk.post("/desk/outcome", json={"note": "재산세 고지서 재발송", "call_id": call_sid}).status_code == 200
    history = web.application.registry.consultations("C-0003")
    assert history[0]["summary"] == "재산세 고지서 재발송" and history[0]["agent"] == AGENT
    assert web.application.outcomes.of_call(call_sid)["citizen_id"] == "C-0003"


def test_identifying_needs_the_answered_call_and_a_known_citizen(web, app, twilio, twilio_api):
    desk = _login(app)
    call_sid = take_call(twilio, twilio_api, desk, caller=UNKNOWN_CALLER)
    unknown = desk.post("/desk/identify", json={"call_id": call_sid, "citizen_id": "C-9999"})
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "no-such-citizen"
    other = desk.post("/desk/identify", json={"call_id": "CA-other", "citizen_id": "C-0003"})
    assert other.status_code == 400 and other.get_json()["details"]["field"] == "call_id"


def test_a_shared_phone_finds_every_citizen_who_holds_it(web, app):
    from hotline.citizens import parse_record
    web.application.registry.import_records([
        parse_record({"id": "C-9001", "name": "정가족", "phones": ["02-555-0101"], "birth_year": 1960}),
        parse_record({"id": "C-9002", "name": "정자녀", "phones": ["02-555-0101"], "birth_year": 1990}),
    ])
    assert sorted(_found(_login(app), phone="02-555-0101")) == ["C-9001", "C-9002"]


def test_the_search_and_the_identification_are_in_the_profile_view_audit(web, app, twilio, twilio_api):
    desk = _login(app)
    call_sid = take_call(twilio, twilio_api, desk, caller=UNKNOWN_CALLER)
    assert _found(desk, registry_number="34567890") == ["C-0003"]
    desk.post("/desk/identify", json={"call_id": call_sid, "citizen_id": "C-0003"})
    desk.get("/desk/state")
    views = web.application.views.query(citizen="C-0003")["views"]
    assert [(v["surface"], v["viewer"]) for v in views] == [("search", AGENT), ("identify", AGENT), ("desk", AGENT)]
    assert [v["call"] for v in views[1:]] == [call_sid, call_sid]
