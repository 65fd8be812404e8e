"""Callers wait (never dropped) with their position announced; a free agent takes the
caller at the head; an agent whose phone is not answered gives the call back at the head
of its queue and the next agent is rung."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.conftest import wait_for
from tests.webhooks.helpers import caller_params, dial_in, new_call_sid, said, set_status, twiml

FINES_AGENTS = ("kim.minji", "yoon.taeho", "park.seojun", "lim.jaewon", "jung.hoon", "shin.minho")


def _reserved_call_of(leg) -> str:
    return parse_qs(urlparse(leg.url).query)["call"][0]


def test_no_agent_free_callers_wait_with_position_then_head_caller_is_reserved(web, app, client, twilio, twilio_api):
    application = web.application
    first, second = new_call_sid(), new_call_sid()
    for sid, caller in ((first, "+821055501234"), (second, "+821099990001")):
        document = dial_in(twilio, sid, caller, "1", "2")
        if caller == "+821099990001":  # unknown: gives up identifying (no digits twice... then continues)
            while document.find("Gather") is not None:
                document = twiml(twilio.post(document.find("Redirect").text, caller_params(sid, caller)))
        assert document.find("Dial/Conference") is not None

    hold = twiml(twilio.post("/twilio/wait", caller_params(first, "+821055501234")))
    assert "1번째" in said(hold)
    assert hold.find("Redirect").text.endswith("/twilio/wait")
    assert "2번째" in said(twiml(twilio.post("/twilio/wait", caller_params(second, "+821099990001"))))
    assert [c.call_id for c in application.routing.waiting_calls()] == [first, second]
    assert twilio_api.calls == []

    assert set_status(client, "yoon.taeho", "available").get_json()["reserved_call"] == first
    leg = wait_for(lambda: twilio_api.calls)[0]
    assert leg.to == "client:yoon.taeho" and _reserved_call_of(leg) == first
    assert [c.call_id for c in application.routing.waiting_calls()] == [second]
    assert "1번째" in said(twiml(twilio.post("/twilio/wait", caller_params(second, "+821099990001"))))


def test_unanswered_agent_gives_call_back_at_head_and_next_agent_is_rung(web, app, client, twilio, twilio_api):
    application = web.application
    set_status(client, "kim.minji", "available")
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, "+821055501234", "1", "2")
    first_leg = wait_for(lambda: twilio_api.calls)[0]
    assert first_leg.to == "client:kim.minji" and _reserved_call_of(first_leg) == call_sid

    # A later caller for the same queue arrives while the first one is being offered: it waits.
    later = new_call_sid()
    dial_in(twilio, later, "+821098765432", "1", "2")
    assert application.routing.queue_position(later) == 1

    # kim.minji's phone is not answered: Twilio reports no-answer on the leg's status callback.
    status = twilio.post(first_leg.status_callback, {"CallSid": first_leg.sid, "CallStatus": "no-answer",
                                                     "From": first_leg.from_, "To": first_leg.to})
    assert status.status_code == 204
    assert application.routing.agent("kim.minji").status == "break"
    assert application.routing.queue_position(call_sid) == 1  # back at the head, ahead of the later caller
    assert application.routing.queue_position(later) == 2

    set_status(client, "park.seojun", "available")
    second_leg = wait_for(lambda: twilio_api.calls[1] if len(twilio_api.calls) == 2 else None)
    assert second_leg.to == "client:park.seojun" and _reserved_call_of(second_leg) == call_sid

    # A late answer from kim.minji finds the call taken and is hung up politely.
    late = twiml(twilio.post(first_leg.url, {"CallSid": first_leg.sid, "CallStatus": "in-progress",
                                             "From": first_leg.from_, "To": first_leg.to}))
    assert late.find("Hangup") is not None and late.find("Dial") is None


def test_caller_hanging_up_while_waiting_leaves_the_queue(web, app, client, twilio):
    application = web.application
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, "+821055501234", "1", "3")
    assert application.routing.queue_position(call_sid) == 1
    assert twilio.post("/twilio/status", caller_params(call_sid, "+821055501234", CallStatus="completed")).status_code == 204
    assert application.routing.queue_position(call_sid) is None
    assert application.routing.waiting_calls() == []
    assert application.routing.call(call_sid).state == "ended"


def test_caller_hanging_up_while_agent_rings_releases_the_agent(web, app, client, twilio, twilio_api):
    application = web.application
    set_status(client, "jung.hoon", "available")
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, "+821055501234", "1", "3")
    wait_for(lambda: twilio_api.calls)
    assert application.routing.agent("jung.hoon").status == "reserved"
    twilio.post("/twilio/status", caller_params(call_sid, "+821055501234", CallStatus="completed"))
    assert application.routing.agent("jung.hoon").status == "available"


def test_reservation_timeout_sends_call_to_the_head_and_the_next_agent(web, app, client, twilio, twilio_api, redis_client):
    application = web.application
    set_status(client, "kim.minji", "available")
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, "+821055501234", "1", "2")
    wait_for(lambda: twilio_api.calls)
    later = new_call_sid()
    dial_in(twilio, later, "+821098765432", "1", "2")
    set_status(client, "park.seojun", "break")  # nobody else free yet

    # Time passes with no answer and no callback: the deadline in Redis is reached.
    redis_client.zadd("oc:{120}:reservations", {call_sid: 0})
    application.dispatcher.sweep()
    assert application.routing.agent("kim.minji").status == "break"
    assert application.routing.queue_position(call_sid) == 1 and application.routing.queue_position(later) == 2
    desk = app.test_client()
    desk.post("/desk/login", data={"agent_id": "kim.minji", "pin": "1001"})
    assert desk.get("/desk/state").get_json()["pop"] is None  # the missed call left kim's desk

    set_status(client, "park.seojun", "available")
    leg = wait_for(lambda: twilio_api.calls[1] if len(twilio_api.calls) == 2 else None)
    assert leg.to == "client:park.seojun" and _reserved_call_of(leg) == call_sid
