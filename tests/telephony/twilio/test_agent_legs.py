"""Only the agent leg that accepted a call may end it; any other leg's end is at most a
missed offer. A leg still ringing when the citizen leaves is cancelled at once."""
from __future__ import annotations

from tests.conftest import wait_for
from tests.webhooks.helpers import caller_params, dial_in, new_call_sid, set_status, twiml

CALLER = "+821055501234"
RESERVATIONS = "oc:{120}:reservations"


def _leg_form(leg, status: str) -> dict:
    return {"CallSid": leg.sid, "From": leg.from_, "To": leg.to, "CallStatus": status, "Direction": "outbound-api"}


def _nth_leg(twilio_api, n: int):
    return wait_for(lambda: twilio_api.calls[n] if len(twilio_api.calls) > n else None)


def _ring_times_out(web, redis_client, call_sid: str) -> None:
    """The reservation's deadline passes with no answer: the sweep gives the call back."""
    redis_client.zadd(RESERVATIONS, {call_sid: 0})
    web.application.dispatcher.sweep()
    assert web.application.routing.call(call_sid).state == "waiting"


def _fines_call(twilio, client, twilio_api, agent_id: str = "kim.minji"):
    set_status(client, agent_id, "available")
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, CALLER, "1", "2")
    return call_sid, _nth_leg(twilio_api, 0)


def test_a_late_answer_after_the_timeout_and_its_hang_up_leave_the_call_waiting(web, client, twilio, twilio_api,
                                                                               redis_client):
    application = web.application
    call_sid, leg = _fines_call(twilio, client, twilio_api)  # kim.minji is the only agent free
    _ring_times_out(web, redis_client, call_sid)

    late = twiml(twilio.post(leg.url, _leg_form(leg, "in-progress")))
    assert late.find("Hangup") is not None and late.find("Dial") is None  # "call already taken"
    assert twilio.post(leg.status_callback, _leg_form(leg, "completed")).status_code == 204

    assert application.routing.call(call_sid).state == "waiting"
    assert application.routing.queue_position(call_sid) == 1
    assert redis_client.zscore(web.twilio.liveness.key, call_sid) is not None  # still watched
    set_status(client, "park.seojun", "available")
    assert _nth_leg(twilio_api, 1).to == "client:park.seojun"  # and offered to the next free agent


def test_an_old_leg_completing_does_not_end_the_call_connected_to_another_agent(web, client, twilio, twilio_api,
                                                                                redis_client):
    application = web.application
    call_sid, kims_leg = _fines_call(twilio, client, twilio_api)
    _ring_times_out(web, redis_client, call_sid)
    set_status(client, "park.seojun", "available")
    parks_leg = _nth_leg(twilio_api, 1)
    assert twiml(twilio.post(parks_leg.url, _leg_form(parks_leg, "in-progress"))).find("Dial/Conference") is not None

    twilio.post(kims_leg.status_callback, _leg_form(kims_leg, "completed"))

    assert application.routing.call(call_sid).state == "connected"
    assert application.routing.agent("park.seojun").status == "busy"


def test_an_old_leg_of_the_agent_rung_again_neither_answers_nor_misses_the_new_ring(web, client, twilio, twilio_api,
                                                                                 redis_client):
    application = web.application
    call_sid, old_leg = _fines_call(twilio, client, twilio_api)
    _ring_times_out(web, redis_client, call_sid)
    set_status(client, "kim.minji", "available")  # back from break: the same call is offered again
    new_leg = _nth_leg(twilio_api, 1)

    stale = twiml(twilio.post(old_leg.url, _leg_form(old_leg, "in-progress")))
    assert stale.find("Hangup") is not None and stale.find("Dial") is None
    twilio.post(old_leg.status_callback, _leg_form(old_leg, "no-answer"))
    assert application.routing.call(call_sid).state == "reserved"
    assert application.routing.agent("kim.minji").status == "reserved"

    assert twiml(twilio.post(new_leg.url, _leg_form(new_leg, "in-progress"))).find("Dial/Conference") is not None
    assert application.routing.call(call_sid).state == "connected"


def test_the_rung_leg_ending_before_its_answer_was_accepted_is_a_missed_offer(web, client, twilio, twilio_api):
    application = web.application
    call_sid, leg = _fines_call(twilio, client, twilio_api)
    twilio.post(leg.status_callback, _leg_form(leg, "completed"))  # its answer never reached OneCall
    assert application.routing.call(call_sid).state == "waiting"
    assert application.routing.queue_position(call_sid) == 1
    assert application.routing.agent("kim.minji").status == "break"


def test_the_accepted_leg_hanging_up_ends_the_call(web, client, twilio, twilio_api):
    application = web.application
    call_sid, leg = _fines_call(twilio, client, twilio_api)
    twilio.post(leg.url, _leg_form(leg, "in-progress"))
    twilio.post(leg.status_callback, _leg_form(leg, "completed"))
    assert application.routing.call(call_sid).state == "ended"
    assert application.routing.agent("kim.minji").status == "wrapup"


def test_the_citizen_leaving_cancels_the_ringing_leg_and_frees_the_agent(web, client, twilio, twilio_api):
    application = web.application
    call_sid, leg = _fines_call(twilio, client, twilio_api)

    twilio.post("/twilio/status", caller_params(call_sid, CALLER, CallStatus="completed"))

    assert application.routing.agent("kim.minji").status == "available"
    update = wait_for(lambda: [form for sid, form in twilio_api.updates if sid == leg.sid])
    assert update[0]["Status"] == ["canceled"]
    assert twilio_api.call(leg.sid).status == "canceled"
    twilio.post(leg.status_callback, _leg_form(leg, "canceled"))  # Twilio reports the cancelled leg
    assert application.routing.agent("kim.minji").status == "available"  # not on break: not their fault


def test_a_call_found_gone_by_the_liveness_check_cancels_its_ringing_leg(web, client, twilio, twilio_api,
                                                                         redis_client):
    application = web.application
    call_sid, leg = _fines_call(twilio, client, twilio_api)
    twilio_api.inbound[call_sid] = "completed"  # the caller hung up; the status callback was lost
    redis_client.zadd(web.twilio.liveness.key, {call_sid: 0})

    assert web.twilio.check_liveness() == [call_sid]

    assert application.routing.agent("kim.minji").status == "available"
    assert wait_for(lambda: [form for sid, form in twilio_api.updates if sid == leg.sid])[0]["Status"] == ["canceled"]
