"""A Redis restart in the middle of a Twilio call loses nothing: a waiting caller keeps
holding and reaches the next free agent, a ring answered during the outage is a missed offer
at most, and a connected call ends normally. Requests made during the outage may fail; what
follows them must not."""
from __future__ import annotations

from dataclasses import replace

import pytest
import redis

from tests.conftest import TwilioSigner, start_web_process, wait_for
from tests.webhooks.helpers import caller_params, dial_in, new_call_sid, said, set_status, twiml

CALLER = "+821055501234"


@pytest.fixture()
def hotline(demo_config, settings, own_redis):
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    process = start_web_process(demo_config, replace(settings, redis_url=own_redis.url), client)
    yield process
    process.stop()
    client.close()


def _leg_form(leg, status: str) -> dict:
    return {"CallSid": leg.sid, "From": leg.from_, "To": leg.to, "CallStatus": status, "Direction": "outbound-api"}


def _nth_leg(twilio_api, n: int):
    return wait_for(lambda: twilio_api.calls[n] if len(twilio_api.calls) > n else None)


def _answers(twilio, leg) -> None:
    assert twiml(twilio.post(leg.url, _leg_form(leg, "in-progress"))).find("Dial/Conference") is not None


def test_a_waiting_caller_keeps_holding_through_a_restart_and_reaches_the_next_agent(hotline, own_redis, twilio_api):
    application, api = hotline.application, hotline.app.test_client()
    twilio = TwilioSigner(hotline.app.test_client())
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, CALLER, "1", "2")  # no agent free: the caller waits
    assert application.routing.queue_position(call_sid) == 1

    own_redis.stop()
    hold = twiml(twilio.post("/twilio/wait", caller_params(call_sid, CALLER)))  # during the outage
    assert hold.find("Dial") is None and hold.find("Hangup") is None
    assert hold.find("Redirect").text.endswith("/twilio/wait")  # still the hold loop
    own_redis.start()

    assert "1번째" in said(twiml(twilio.post("/twilio/wait", caller_params(call_sid, CALLER))))
    set_status(api, "kim.minji", "available")
    leg = _nth_leg(twilio_api, 0)
    _answers(twilio, leg)
    assert application.routing.call(call_sid).state == "connected"
    twilio.post(leg.status_callback, _leg_form(leg, "completed"))
    assert application.routing.call(call_sid).state == "ended"
    assert application.routing.agent("kim.minji").status == "wrapup"


def test_a_ring_answered_during_the_outage_is_offered_again_after_it(hotline, own_redis, twilio_api):
    application, api = hotline.application, hotline.app.test_client()
    twilio = TwilioSigner(hotline.app.test_client())
    set_status(api, "kim.minji", "available")
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, CALLER, "1", "2")
    leg = _nth_leg(twilio_api, 0)

    own_redis.stop()
    assert twilio.post(leg.url, _leg_form(leg, "in-progress")).status_code == 500  # the answer fails
    own_redis.start()
    twilio.post(leg.status_callback, _leg_form(leg, "completed"))  # Twilio ends the leg it could not run

    assert application.routing.call(call_sid).state == "waiting"  # back at the head, not ended
    assert application.routing.queue_position(call_sid) == 1
    set_status(api, "park.seojun", "available")
    _answers(twilio, _nth_leg(twilio_api, 1))
    assert application.routing.call(call_sid).state == "connected"


def _connected_call(hotline, twilio_api):
    """kim.minji answered a fines call: (application, signer, call sid, her leg)."""
    application, api = hotline.application, hotline.app.test_client()
    twilio = TwilioSigner(hotline.app.test_client())
    set_status(api, "kim.minji", "available")
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, CALLER, "1", "2")
    leg = _nth_leg(twilio_api, 0)
    _answers(twilio, leg)
    return application, twilio, call_sid, leg


def test_a_connected_call_ends_normally_after_a_restart(hotline, own_redis, twilio_api):
    application, twilio, call_sid, leg = _connected_call(hotline, twilio_api)

    own_redis.restart()

    assert application.routing.call(call_sid).state == "connected"
    assert application.routing.agent("kim.minji").status == "busy"
    twilio.post(leg.status_callback, _leg_form(leg, "completed"))
    assert application.routing.call(call_sid).state == "ended"
    assert application.routing.agent("kim.minji").status == "wrapup"


def test_a_call_whose_hang_ups_came_during_the_outage_is_closed_by_the_liveness_check(hotline, own_redis,
                                                                                       twilio_api):
    application, twilio, call_sid, leg = _connected_call(hotline, twilio_api)

    own_redis.stop()
    assert twilio.post(leg.status_callback, _leg_form(leg, "completed")).status_code == 500
    assert twilio.post("/twilio/status", caller_params(call_sid, CALLER, CallStatus="completed")).status_code == 500
    own_redis.start()
    twilio_api.inbound[call_sid] = "completed"
    application.redis.zadd(hotline.twilio.liveness.key, {call_sid: 0})  # not seen for a long time

    assert hotline.twilio.check_liveness() == [call_sid]
    assert application.routing.call(call_sid).state == "ended"
    assert application.routing.agent("kim.minji").status == "wrapup"
