"""Asterisk going away and coming back, phones going unreachable, bad credentials and bad
frames: OneCall recovers, and nothing stays reserved or busy for a call that is gone."""
from __future__ import annotations

import asyncio
import logging

import pytest

from telephony.asterisk.errors import AmiLoginRefused
from routing import CallRequest
from tests.telephony.asterisk.conftest import ami_settings
from tests.telephony.asterisk.harness import DriverThread
from tests.telephony.asterisk.test_asterisk_call import (CITIZEN_UNIQUEID, AgentPhones, call_state, citizen_channel,
                                               make_available)
from tests.conftest import wait_for


def test_wrong_ami_secret_is_a_clear_error_at_start(asterisk_application, fake_asterisk, redis_url):
    thread = DriverThread(asterisk_application, ami_settings(fake_asterisk, secret="wrong"), redis_url)
    with pytest.raises(AmiLoginRefused) as refused:
        thread.start()
    thread.stop()
    assert "refused AMI user 'onecall'" in refused.value.message
    assert "Authentication failed" in refused.value.message
    assert "ONECALL_AMI_SECRET" in refused.value.message


def test_login_asks_only_for_the_events_it_uses(driver, fake_asterisk):
    assert fake_asterisk.login_event_masks[-1] == "system,call"


def connected_call(application, driver, fake_asterisk):
    make_available(application, "kim.minji")
    phones = AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    citizen.wait_executed("ConfBridge")
    agent_leg = phones.legs[0]
    agent_leg.wait_executed("ConfBridge")
    return citizen, agent_leg


def test_connection_lost_then_a_different_channel_list_resyncs_and_frees_the_agent(asterisk_application, driver,
                                                                                     fake_asterisk):
    application = asterisk_application
    citizen, agent_leg = connected_call(application, driver, fake_asterisk)
    # A second caller waits for a fines agent; their channel survives.
    survivor = citizen_channel(driver, fake_asterisk, keys="12", uniqueid="1795349870.9", callerid="+821098765432")
    wait_for(lambda: call_state(application, "1795349870.9") == "waiting")
    resyncs_before = driver.driver.resyncs

    # The AMI connection drops; meanwhile the connected call's channels vanish and no event
    # (nor its FastAGI sessions, whose sockets stay open here) says so.
    fake_asterisk.drop()
    fake_asterisk.remove_channel(CITIZEN_UNIQUEID, emit_hangup=False)
    fake_asterisk.remove_channel(agent_leg.uniqueid, emit_hangup=False)
    fake_asterisk.wait_logged_in(1, timeout=10)
    wait_for(lambda: driver.driver.resyncs > resyncs_before)

    assert application.routing.call(CITIZEN_UNIQUEID).state == "ended"
    assert application.routing.agent("kim.minji").status == "wrapup"  # not busy for a call that no longer exists
    assert application.routing.call("1795349870.9").state == "waiting"
    for channel in (citizen, agent_leg, survivor):
        channel.hangup()


def test_asterisk_restart_mid_call_ends_the_call_and_reconnects(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    citizen, agent_leg = connected_call(application, driver, fake_asterisk)
    resyncs_before = driver.driver.resyncs

    # `core restart now` (06-core-restart): Hangup events, Shutdown, sockets closed, back with no call.
    fake_asterisk.restart(new_channels=[{"channel": "PJSIP/trunk-00000001", "uniqueid": "1795350000.1"}],
                          reset_first_connection=True)
    wait_for(lambda: driver.driver.resyncs > resyncs_before, timeout=15)

    assert application.routing.call(CITIZEN_UNIQUEID).state == "ended"
    assert application.routing.agent("kim.minji").status == "wrapup"
    assert fake_asterisk.logged_in_count == 1
    for channel in (citizen, agent_leg):
        channel.hangup()


def test_unreachable_phone_stops_calls_until_it_is_back(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    make_available(application, "kim.minji")
    fake_asterisk.emit_device_state("PJSIP/1001", "UNAVAILABLE")
    wait_for(lambda: application.routing.agent("kim.minji").status == "offline")
    assert application.routing.agent("kim.minji").reason == "unreachable"

    fake_asterisk.emit_contact_status("1001", "Reachable")
    wait_for(lambda: application.routing.agent("kim.minji").status == "available")


def test_agent_on_break_stays_on_break_when_the_phone_comes_back(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    application.routing.set_status("lee.jiwon", "break", "lunch")
    fake_asterisk.emit_contact_status("1002", "Unreachable")
    wait_for(lambda: application.redis.sismember(driver.driver.state.unreachable_key, "lee.jiwon"))
    fake_asterisk.emit_device_state("PJSIP/1002", "NOT_INUSE")
    wait_for(lambda: not application.redis.sismember(driver.driver.state.unreachable_key, "lee.jiwon"))
    agent = application.routing.agent("lee.jiwon")
    assert (agent.status, agent.reason) == ("break", "lunch")


def test_malformed_frame_is_logged_and_skipped(asterisk_application, driver, fake_asterisk, caplog):
    application = asterisk_application
    make_available(application, "kim.minji")
    caplog.set_level(logging.WARNING, logger="telephony.asterisk.ami")
    fake_asterisk.send_raw(b"this is not AMI\r\nat all\r\n\r\n")
    fake_asterisk.emit_device_state("PJSIP/1001", "UNAVAILABLE")  # the stream goes on
    wait_for(lambda: application.routing.agent("kim.minji").status == "offline")
    assert any("malformed AMI frame" in record.getMessage() for record in caplog.records)


def test_stopping_onecall_leaves_conversations_alone_and_hands_waiting_callers_to_the_dialplan(
        asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    citizen, agent_leg = connected_call(application, driver, fake_asterisk)
    waiting = citizen_channel(driver, fake_asterisk, keys="12", uniqueid="1795349870.9", callerid="+821098765432")
    wait_for(lambda: call_state(application, "1795349870.9") == "waiting")

    driver.stop()

    waiting.wait_closed()  # AGI() returns: the sample dialplan dials its fallback group
    assert application.routing.call("1795349870.9").state == "ended"  # never offered to an agent now
    assert application.routing.call(CITIZEN_UNIQUEID).state == "connected"  # the conversation goes on
    assert application.routing.agent("kim.minji").status == "busy"
    for channel in (citizen, agent_leg):
        channel.close()


def _reserved_call(application, state, call_id="1795349999.1"):
    from routing import CallRequest

    application.routing.set_status("kim.minji", "available")
    state.track_call(call_id, "PJSIP/trunk-1")
    reservation = application.routing.enqueue(CallRequest(
        call_id=call_id, skill="fines", language="ko", priority=0, citizen_id=None, caller="+821055501234",
        data={"verification": "none", "channel": "asterisk"})).reservation
    leg = state.ring(call_id, reservation.agent_id, "PJSIP/1001", owner_here=lambda request: None)
    return call_id, leg


def test_events_late_twice_or_out_of_order_change_nothing_twice(asterisk_application):
    from onecall.composition import build_asterisk_events

    application = asterisk_application
    state = application.asterisk_state
    events = build_asterisk_events(application)
    call_id, leg = _reserved_call(application, state)
    application.calls.agent_answered(call_id, "kim.minji")  # the agent's FastAGI session accepted

    # A late "not answered" for a leg that was answered changes nothing.
    events.dispatch({"Event": "OriginateResponse", "ActionID": leg, "Response": "Failure", "Reason": "3",
                     "Uniqueid": leg, "Channel": "PJSIP/1001"})
    assert application.routing.call(call_id).state == "connected"
    assert application.routing.agent("kim.minji").status == "busy"

    # The citizen's Hangup, twice: one end of call, one wrap-up.
    hangup = {"Event": "Hangup", "Uniqueid": call_id, "Channel": "PJSIP/trunk-1", "Cause": "16"}
    events.dispatch(hangup)
    events.dispatch(hangup)
    assert application.routing.call(call_id).state == "ended"
    assert application.routing.agent("kim.minji").status == "wrapup"
    ends = [f for _, f in application.routing.events() if f.get("call") == call_id and f.get("call_state") == "ended"]
    assert len(ends) == 1

    # The agent leg's own Hangup after the call ended: nothing more.
    events.dispatch({"Event": "Hangup", "Uniqueid": leg, "Channel": "PJSIP/1001-00000001", "Cause": "16"})
    assert application.routing.agent("kim.minji").status == "wrapup"


def test_agent_leg_hangup_before_its_originate_response_gives_the_call_back(asterisk_application):
    from onecall.composition import build_asterisk_events

    application = asterisk_application
    state = application.asterisk_state
    events = build_asterisk_events(application)
    call_id, leg = _reserved_call(application, state)

    events.dispatch({"Event": "Hangup", "Uniqueid": leg, "Channel": "PJSIP/1001-00000001", "Cause": "17"})
    events.dispatch({"Event": "OriginateResponse", "ActionID": leg, "Response": "Failure", "Reason": "5",
                     "Uniqueid": leg, "Channel": "PJSIP/1001"})

    assert application.routing.call(call_id).state == "waiting"  # back at the head of its queue, once
    assert application.routing.agent("kim.minji").status == "break"


def test_phone_unreachable_during_a_call_keeps_the_agent_out_after_it(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    citizen, agent_leg = connected_call(application, driver, fake_asterisk)
    fake_asterisk.emit_contact_status("1001", "Unreachable")
    wait_for(lambda: application.redis.sismember(driver.driver.state.unreachable_key, "kim.minji"))
    assert application.routing.agent("kim.minji").status == "busy"  # the call goes on

    agent_leg.hangup()  # the call ends: not wrap-up then available, but out until the phone is back
    wait_for(lambda: application.routing.agent("kim.minji").status == "offline")
    assert application.routing.agent("kim.minji").reason == "unreachable"
    fake_asterisk.emit_contact_status("1001", "Reachable")
    wait_for(lambda: application.routing.agent("kim.minji").status == "available")
    citizen.hangup()


def _dispatch_on_the_drivers_loop(driver, application, reservation):
    """Dispatch as a caller's FastAGI task does: on the driver's loop. Returns the AMI action
    ids waiting for an answer right after the dispatch, before the loop ran anything else."""
    async def dispatch():
        application.dispatcher.dispatch(reservation)
        return set(driver.driver.ami.protocol.responses)
    return driver.call(dispatch)


def test_a_ring_asked_for_on_the_drivers_loop_is_written_before_the_dispatch_returns(asterisk_application, driver,
                                                                                      fake_asterisk):
    application = asterisk_application
    AgentPhones(driver, fake_asterisk, answer=False)
    application.routing.enqueue(CallRequest("1795349864.77", "fines", "ko", data={"channel": "asterisk"}))
    reservation = application.routing.set_status("park.seojun", "available")

    waiting_for_answer = _dispatch_on_the_drivers_loop(driver, application, reservation)

    leg_id = driver.driver.state.redis.hget(driver.driver.state.leg_of_key, "1795349864.77")
    assert leg_id in waiting_for_answer  # not queued behind the caller's task: already on the wire
    originate = fake_asterisk.wait_for_action("Originate")
    assert originate.first("ChannelId") == leg_id


def test_a_ring_while_ami_is_down_gives_the_call_back(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    application.routing.enqueue(CallRequest("1795349864.78", "fines", "ko", data={"channel": "asterisk"}))
    fake_asterisk.restart(down_for=5.0)
    wait_for(lambda: not driver.driver.ami.authenticated)

    _dispatch_on_the_drivers_loop(driver, application, application.routing.set_status("park.seojun", "available"))

    wait_for(lambda: application.routing.agent("park.seojun").status == "break")
    assert application.routing.call("1795349864.78").state == "waiting"  # back at the head of its queue
    assert not fake_asterisk.actions_named("Originate")


def test_stopping_does_not_wait_forever_for_a_task_that_swallows_its_cancellation(driver):
    # redis.asyncio can swallow a cancellation that lands inside a blocked BLPOP.
    async def swallows_one_cancellation():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(3600)  # the harness's second cancel ends it

    async def add_it():
        driver.driver._tasks.append(asyncio.get_running_loop().create_task(swallows_one_cancellation()))

    driver.call(add_it)
    driver.call(driver.driver.close, timeout=10)  # returns: close() waits for its tasks only so long
    assert driver.driver.stopped.is_set()
