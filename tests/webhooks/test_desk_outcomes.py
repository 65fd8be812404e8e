"""A note is never lost: the agent can save the outcome of the call they answered after the
wrap-up timer ran out or a reload, a newer call records the unsaved one as closed without a
note, an unidentified caller's note is kept on the call, and the desk hears at once that the
call ended."""
from __future__ import annotations

import pytest
import yaml

from hotline.config import load_config
from tests.conftest import start_web_process, wait_for
from tests.webhooks.helpers import KNOWN_CALLER, UNKNOWN_CALLER, caller_params, dial_in, new_call_sid, twiml
from tests.webhooks.test_desk import _events, _login

AGENT = "kim.minji"  # the best fines agent


def with_wrapup(deployment_dir, seconds: float):
    """The demo deployment's config with another wrap-up time."""
    config_file = deployment_dir / "config.yaml"
    data = yaml.safe_load(config_file.read_text())
    data["routing"]["wrapup_seconds"] = seconds
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_config(config_file)


@pytest.fixture()
def short_wrapup_web(deployment_dir, settings, redis_client):
    """The demo hotline with a wrap-up that runs out at once."""
    process = start_web_process(with_wrapup(deployment_dir, 0), settings, redis_client)
    yield process
    process.stop()


def take_call(twilio, twilio_api, desk, caller=KNOWN_CALLER):
    """The agent goes available, a citizen calls about a fine, the agent answers."""
    assert desk.post("/desk/status", json={"status": "available"}).status_code == 200
    call_sid = new_call_sid()
    rung = len(twilio_api.calls)
    document = dial_in(twilio, call_sid, caller, "1", "2")
    while document.find("Gather") is not None:  # an unknown caller types a number nobody has
        document = twiml(twilio.post(document.find("Gather").get("action"),
                                     caller_params(call_sid, caller, Digits="99999999")))
    leg = wait_for(lambda: len(twilio_api.calls) > rung and twilio_api.calls[-1])
    twiml(twilio.post(leg.url, {"CallSid": leg.sid, "From": leg.from_, "To": leg.to,
                                "CallStatus": "in-progress", "Direction": "outbound-api"}))
    return call_sid


def caller_hangs_up(twilio, call_sid, caller=KNOWN_CALLER):
    twilio.post("/twilio/status", caller_params(call_sid, caller, CallStatus="completed"))


def wrapup_runs_out(web):
    wait_for(lambda: web.application.routing.agent(AGENT).status == "available")


def test_the_note_is_saved_after_the_wrapup_ran_out_and_a_reload(short_wrapup_web, twilio_api):
    web = short_wrapup_web
    from tests.conftest import TwilioSigner
    twilio = TwilioSigner(web.app.test_client())
    call_sid = take_call(twilio, twilio_api, _login(web.app))
    caller_hangs_up(twilio, call_sid)
    wrapup_runs_out(web)

    reloaded = _login(web.app)  # a new page, a new session
    state = reloaded.get("/desk/state").get_json()
    assert state["pop"]["call"]["id"] == call_sid and state["pop"]["citizen"]["id"] == "C-0001"
    assert state["outcome_due"]["call_id"] == call_sid and state["outcome_due"]["shown"]

    saved = reloaded.post("/desk/outcome", json={"note": "과태료 납부 방법 안내", "call_id": call_sid})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    history = web.application.registry.consultations("C-0001")
    assert history[0]["summary"] == "과태료 납부 방법 안내" and history[0]["call_id"] == call_sid
    assert history[0]["agent"] == AGENT and not history[0]["no_note"]
    after = saved.get_json()
    assert after["pop"] is None and after["outcome_due"] is None
    again = reloaded.post("/desk/outcome", json={"note": "twice", "call_id": call_sid})
    assert again.status_code == 400 and len(web.application.registry.consultations("C-0001")) == 3


def test_a_newer_call_records_the_unsaved_one_closed_without_a_note(short_wrapup_web, twilio_api):
    web = short_wrapup_web
    from tests.conftest import TwilioSigner
    twilio = TwilioSigner(web.app.test_client())
    desk = _login(web.app)
    first = take_call(twilio, twilio_api, desk)
    caller_hangs_up(twilio, first)
    wrapup_runs_out(web)
    second = take_call(twilio, twilio_api, desk)

    history = web.application.registry.consultations("C-0001")
    assert history[0]["call_id"] == first and history[0]["no_note"] and history[0]["summary"] == ""
    assert web.application.outcomes.of_call(first)["no_note"]
    state = desk.get("/desk/state").get_json()
    assert state["outcome_due"]["call_id"] == second
    stale = desk.post("/desk/outcome", json={"note": "late note", "call_id": first})
    assert stale.status_code == 400 and stale.get_json()["details"]["field"] == "call_id"


def test_an_unidentified_callers_note_is_kept_on_the_call(web, app, twilio, twilio_api):
    desk = _login(app)
    call_sid = take_call(twilio, twilio_api, desk, caller=UNKNOWN_CALLER)
    assert desk.get("/desk/state").get_json()["pop"]["citizen"]["identified"] is False
    assert desk.post("/desk/outcome", json={"note": "주소 변경 절차 안내"}).status_code == 200
    outcome = web.application.outcomes.of_call(call_sid)
    assert outcome["summary"] == "주소 변경 절차 안내" and outcome["citizen_id"] is None
    assert outcome["caller"] == UNKNOWN_CALLER and outcome["agent"] == AGENT


def test_wrapup_is_extended_from_the_desk(web, app, twilio, twilio_api):
    desk = _login(app)
    call_sid = take_call(twilio, twilio_api, desk)
    caller_hangs_up(twilio, call_sid)
    before = desk.get("/desk/state").get_json()
    assert before["agent"]["status"] == "wrapup"
    after = desk.post("/desk/extend", json={}).get_json()
    assert after["wrapup_deadline"] == pytest.approx(before["wrapup_deadline"] + 60, abs=0.01)
    desk.post("/desk/ready", json={})
    refused = desk.post("/desk/extend", json={})
    assert refused.status_code == 409 and refused.get_json()["error"] == "invalid-agent-transition"


def test_the_desk_hears_at_once_that_the_caller_hung_up(web, app, twilio, twilio_api):
    desk = _login(app)
    call_sid = take_call(twilio, twilio_api, desk)
    stream = desk.get("/desk/events", buffered=False)
    events = _events(stream)
    kind, data = next(events)
    assert kind == "state" and data["agent"]["status"] == "busy"
    caller_hangs_up(twilio, call_sid)
    kind, data = next(events)  # the next event, not the next heartbeat
    assert kind == "ended" and data["call_id"] == call_sid
    kind, data = next(events)
    assert kind == "state" and data["agent"]["status"] == "wrapup"
    stream.close()


def test_the_history_keeps_the_note_and_the_call_keeps_who_called(web, app, twilio, twilio_api):
    desk = _login(app)
    call_sid = take_call(twilio, twilio_api, desk)
    assert desk.post("/desk/outcome", json={"note": "납부 확인"}).status_code == 200
    entry = web.application.registry.consultations("C-0001")[0]
    assert set(entry) == {"at", "department", "agent", "summary", "call_id", "no_note"}
    outcome = web.application.outcomes.of_call(call_sid)
    assert outcome["caller"] == KNOWN_CALLER and outcome["citizen_id"] == "C-0001"
