"""A call whose flow or state breaks mid-call still reaches a person: it goes to the
fallback (general) queue instead of hearing an application error."""
from __future__ import annotations

import redis

from tests.webhooks.helpers import KNOWN_CALLER, caller_params, dial_in, new_call_sid, twiml


def test_corrupted_call_state_sends_caller_to_fallback_queue(web, app, client, twilio, redis_client):
    application = web.application
    call_sid = new_call_sid()
    document = dial_in(twilio, call_sid, KNOWN_CALLER, "1")
    redis_client.set(f"oc:{{120}}:session:{call_sid}", "{not json")  # a real fault in the stored state
    document = twiml(twilio.post(document.find("Gather").get("action"), caller_params(call_sid, Digits="2")))
    assert document.find("Dial/Conference").text == f"oc-{call_sid}"
    record = application.routing.call(call_sid)
    assert record.skill == "general" and record.state == "waiting"
    assert record.citizen_id == "C-0001"  # still identified by caller ID, so still prioritised
    assert record.priority > 0


def test_flow_node_removed_mid_call_routes_to_fallback(web, app, client, twilio, redis_client):
    application = web.application
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, KNOWN_CALLER, "1")
    state = application.sessions.load(call_sid)
    application.sessions.save(state.__class__(**{**state.to_dict(), "node": "node-removed-by-a-new-flow"}))
    document = twiml(twilio.post("/twilio/no-input", caller_params(call_sid)))
    assert document.find("Dial/Conference") is not None
    assert application.routing.call(call_sid).skill == "general"


def test_redis_outage_holds_the_caller_instead_of_hanging_up(web, app, client, twilio, monkeypatch):
    application = web.application
    call_sid = new_call_sid()
    document = dial_in(twilio, call_sid, KNOWN_CALLER, "1")

    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(application.sessions, "load", unreachable)
    monkeypatch.setattr(application.sessions, "save", unreachable)
    held = twiml(twilio.post(document.find("Gather").get("action"), caller_params(call_sid, Digits="2")))
    assert held.find("Hangup") is None
    assert held.find("Redirect").text.endswith("/twilio/no-input")
