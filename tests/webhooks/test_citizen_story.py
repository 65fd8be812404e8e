"""The foundation story, end to end through the Flask app with signed Twilio requests:
a known caller with unpaid items in three departments presses the fines key and reaches
exactly one fines agent, whose desktop and CRM get the whole profile before the ring."""
from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlparse

from hotline.config import load_config
from tests.conftest import API_TOKEN, PUBLIC_URL, SCREENPOP_SECRET, TwilioSigner, start_web_process, wait_for
from tests.webhooks.helpers import KNOWN_CALLER, caller_params, dial_in, new_call_sid, said, set_status, twiml

FINES_KEY = "2"


def test_known_caller_presses_fines_and_reaches_one_fines_agent(web, app, client, twilio, twilio_api, screenpop_receiver):
    application = web.application
    # Free agents: two with the fines skill (kim.minji 5, park.seojun 3) and one without.
    for agent_id in ("park.seojun", "kim.minji", "lee.jiwon"):
        assert set_status(client, agent_id, "available").status_code == 200

    call_sid = new_call_sid()
    document = dial_in(twilio, call_sid, KNOWN_CALLER, "1", FINES_KEY)

    # The caller waits in a conference of their own, hearing the hold loop.
    conference = document.find("Dial/Conference")
    assert conference is not None and conference.text == f"oc-{call_sid}"
    assert conference.get("startConferenceOnEnter") == "false"
    assert conference.get("waitUrl") == f"{PUBLIC_URL}/twilio/wait"

    # Exactly one agent is reserved: the most proficient fines agent.
    calls = wait_for(lambda: twilio_api.calls)
    reserved = [a for a in application.routing.agents() if a.status == "reserved"]
    assert [(a.agent_id, a.call_id) for a in reserved] == [("kim.minji", call_sid)]
    assert len(twilio_api.calls) == 1
    leg = calls[0]
    assert leg.to == "client:kim.minji"
    assert leg.from_ == "+8222120120"
    answer_url = urlparse(leg.url)
    assert f"{answer_url.scheme}://{answer_url.netloc}{answer_url.path}" == f"{PUBLIC_URL}/twilio/agent-answer"
    query = parse_qs(answer_url.query)  # the leg's name: OneCall knows which ring answers
    current_leg = web.application.redis.get(web.application.keys.twilio_leg(call_sid))
    assert query == {"call": [call_sid], "agent": ["kim.minji"], "leg": [current_leg]}
    assert set(leg.status_callback_events) == {"initiated", "ringing", "answered", "completed"}

    # While the agent's phone rings, the caller hears that an agent is being connected.
    hold = twiml(twilio.post("/twilio/wait", caller_params(call_sid)))
    assert "상담원을 연결하고 있습니다" in said(hold)

    # The CRM got the whole profile, signed, before the agent answered.
    delivery = wait_for(lambda: screenpop_receiver.acknowledged())[0]
    expected = "sha256=" + hmac.new(SCREENPOP_SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["x-onecall-signature"] == expected
    assert delivery.headers["x-onecall-delivery"]
    pop = json.loads(delivery.body)
    assert pop["call"]["id"] == call_sid and pop["call"]["skill"] == "fines"
    assert pop["agent"]["id"] == "kim.minji"
    citizen = pop["citizen"]
    assert citizen["id"] == "C-0001" and citizen["verification"] == "caller_id"
    assert {d["department"] for d in citizen["open_items"]} == {"local_tax", "fines", "water"}
    assert citizen["open_items_total"] == {"KRW": 142500 + 40000 + 38210}
    assert [c["department"] for c in citizen["consultations"]] == ["welfare", "water"]
    assert pop["call"]["priority"] > 0  # C-0001 is a vulnerable citizen

    # The desktop shows the same pop.
    desk = app.test_client()
    desk.post("/desk/login", data={"agent_id": "kim.minji", "pin": "1001"})
    assert desk.get("/desk/state").get_json()["pop"]["citizen"]["id"] == "C-0001"

    # The agent answers: their leg joins the caller's conference.
    agent_leg = {"CallSid": leg.sid, "From": leg.from_, "To": leg.to, "CallStatus": "in-progress",
                 "Direction": "outbound-api"}
    joined = twiml(twilio.post(leg.url, agent_leg))
    agent_conference = joined.find("Dial/Conference")
    assert agent_conference.text == f"oc-{call_sid}"
    assert agent_conference.get("startConferenceOnEnter") == "true"
    assert application.routing.agent("kim.minji").status == "busy"
    assert application.routing.call(call_sid).state == "connected"

    # The agent closes the call with an outcome: the leg is hung up, history grows, wrap-up starts.
    closed = desk.post("/desk/outcome", json={"note": "과태료 40,000원 가상계좌 안내, 분할 납부 불가 설명"})
    assert closed.status_code == 200, closed.get_data(as_text=True)
    assert twilio_api.updates and twilio_api.updates[0][0] == leg.sid
    assert twilio_api.updates[0][1]["Status"] == ["completed"]
    assert application.routing.agent("kim.minji").status == "wrapup"
    history = application.registry.consultations("C-0001")
    assert history[0]["department"] == "fines" and history[0]["agent"] == "kim.minji"
    assert "과태료" in history[0]["summary"] and len(history) == 3

    # Ready ends wrap-up early; the agent is available again.
    assert desk.post("/desk/ready", json={}).get_json()["agent"]["status"] == "available"


def test_unknown_caller_identifies_with_registry_number(app, client, twilio, twilio_api, screenpop_receiver):
    set_status(client, "park.seojun", "available")
    call_sid = new_call_sid()
    document = dial_in(twilio, call_sid, "+821099990000", "1", "1")  # Korean, local taxes
    gather = document.find("Gather")
    assert gather is not None and gather.get("finishOnKey") == "#"
    document = twiml(twilio.post(gather.get("action"), caller_params(call_sid, "+821099990000", Digits="34567890")))
    assert document.find("Dial/Conference") is not None
    pop = json.loads(wait_for(lambda: screenpop_receiver.acknowledged())[0].body)
    assert pop["citizen"]["id"] == "C-0003"
    assert pop["citizen"]["verification"] == "registry_number"
    assert pop["agent"]["id"] == "park.seojun"


def test_english_by_menu_key_and_speech(web, app, client, twilio, twilio_api):
    set_status(client, "oh.sujin", "available")  # transport 4, speaks English
    call_sid = new_call_sid()
    document = dial_in(twilio, call_sid, "+821098765432", "1", "9")
    gather = document.find("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "en-US"
    assert "press" in said(document)
    document = twiml(twilio.post(gather.get("action"), caller_params(call_sid, "+821098765432",
                                                                     SpeechResult="public transport", Confidence="0.9")))
    assert document.find("Dial/Conference") is not None
    leg = wait_for(lambda: twilio_api.calls)[0]
    assert leg.to == "client:oh.sujin"
    assert web.application.routing.call(call_sid).language == "en"


def test_english_caller_for_a_skill_without_english_agents_waits_in_korean(deployment_dir, settings, redis_client):
    # In the demo every skill has an English speaker; take welfare's (choi.yuna) away for this test.
    config_file = deployment_dir / "config.yaml"
    config_file.write_text(config_file.read_text(encoding="utf-8").replace(
        'skills: {welfare: 5, general: 3}, languages: [ko, en]', 'skills: {welfare: 5, general: 3}, languages: [ko]'),
        encoding="utf-8")
    web = start_web_process(load_config(config_file), settings, redis_client)
    try:
        application, twilio = web.application, TwilioSigner(web.app.test_client())
        call_sid = new_call_sid()
        dial_in(twilio, call_sid, "+821098765432", "2", "4")  # English, welfare
        assert application.routing.call(call_sid).language == "ko"
        english = new_call_sid()
        dial_in(twilio, english, "+821098765432", "2", "5")  # English, water: English agents exist
        assert application.routing.call(english).language == "en"
    finally:
        web.stop()

def test_a_caller_on_a_shared_household_phone_is_asked_who_they_are(web, app, client, twilio, twilio_api,
                                                                     screenpop_receiver):
    """C-0001's phone imported on a second citizen too: caller ID names neither, so the IVR asks
    for the registry number and the pop shows the one who typed theirs."""
    household = {"id": "C-0101", "name": "김영수", "phones": [KNOWN_CALLER], "registry_number": "10100101"}
    imported = client.post("/api/citizens", json=household, headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert imported.status_code == 201, imported.get_data(as_text=True)
    set_status(client, "park.seojun", "available")
    call_sid = new_call_sid()
    document = dial_in(twilio, call_sid, KNOWN_CALLER, "1", "1")  # Korean, local taxes
    gather = document.find("Gather")
    assert gather is not None and gather.get("finishOnKey") == "#"  # the registry number, not the queue
    document = twiml(twilio.post(gather.get("action"), caller_params(call_sid, KNOWN_CALLER, Digits="10100101")))
    assert document.find("Dial/Conference") is not None
    pop = json.loads(wait_for(lambda: screenpop_receiver.acknowledged())[0].body)
    assert pop["citizen"]["id"] == "C-0101"
    assert pop["citizen"]["verification"] == "registry_number"
