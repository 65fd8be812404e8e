"""Calls whose end was never reported are found through Twilio's REST API; calls Twilio
still has, or cannot answer about, keep their place in the queue."""
from __future__ import annotations

from tests.webhooks.helpers import dial_in, new_call_sid


def _waiting_call(twilio, web, redis_client) -> str:
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, "+821055501234", "1", "4")
    assert web.application.routing.queue_position(call_sid) == 1
    redis_client.zadd(web.twilio.liveness.key, {call_sid: 0})  # not seen for a long time
    return call_sid


def test_call_over_at_twilio_is_ended_here(web, twilio, twilio_api, redis_client):
    application = web.application
    call_sid = _waiting_call(twilio, web, redis_client)
    twilio_api.inbound[call_sid] = "completed"  # the caller hung up; the status callback was lost
    assert web.twilio.check_liveness() == [call_sid]
    assert application.routing.call(call_sid).state == "ended"
    assert application.routing.waiting_calls() == []
    assert redis_client.zscore(web.twilio.liveness.key, call_sid) is None


def test_call_twilio_does_not_know_is_ended(web, twilio, twilio_api, redis_client):
    application = web.application
    call_sid = _waiting_call(twilio, web, redis_client)
    assert web.twilio.check_liveness() == [call_sid]
    assert application.routing.call(call_sid).state == "ended"


def test_call_still_in_progress_keeps_its_place(web, twilio, twilio_api, redis_client):
    application = web.application
    call_sid = _waiting_call(twilio, web, redis_client)
    twilio_api.inbound[call_sid] = "in-progress"
    assert web.twilio.check_liveness() == []
    assert application.routing.queue_position(call_sid) == 1
    assert redis_client.zscore(web.twilio.liveness.key, call_sid) > 0  # checked again only later
    assert web.twilio.check_liveness() == []


def test_twilio_unreachable_never_drops_a_waiting_call(web, twilio, twilio_api, redis_client):
    application = web.application
    call_sid = _waiting_call(twilio, web, redis_client)
    twilio_api.stop()
    assert web.twilio.check_liveness() == []
    assert application.routing.queue_position(call_sid) == 1


def test_hold_loop_marks_the_call_seen(web, twilio, redis_client):
    call_sid = _waiting_call(twilio, web, redis_client)
    twilio.post("/twilio/wait", {"CallSid": call_sid, "CallStatus": "in-progress"})
    assert redis_client.zscore(web.twilio.liveness.key, call_sid) > 0
