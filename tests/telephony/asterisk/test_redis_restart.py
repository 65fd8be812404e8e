"""A Redis restart in the middle of an Asterisk call loses nothing: a caller holding in the
queue keeps holding and is bridged with the next free agent, and a conversation in its room
ends normally afterwards."""
from __future__ import annotations

import pytest
import redis

from onecall.bootstrap import bootstrap
from onecall.composition import build_application
from onecall.settings import Settings
from tests.conftest import SCREENPOP_SECRET, wait_for
from tests.telephony.asterisk.conftest import ami_settings
from tests.telephony.asterisk.harness import DriverThread
from tests.telephony.asterisk.test_asterisk_call import CITIZEN_UNIQUEID, AgentPhones, call_state, citizen_channel
from tests.telephony.asterisk.test_asterisk_call import make_available


@pytest.fixture()
def hotline(demo_config, fake_asterisk, screenpop_receiver, own_redis):
    """The demo hotline's application and Asterisk driver, on a Redis the test restarts."""
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    settings = Settings(
        config_path="config.yaml", redis_url=own_redis.url, public_url="https://hotline.example.org",
        twilio_account_sid="AC" + "ab" * 16, twilio_auth_token="unused-here", twilio_api_base_url="http://127.0.0.1:9",
        api_token="test-api-token", secret_key="test-secret-key", screenpop_url=screenpop_receiver.url,
        screenpop_secret=SCREENPOP_SECRET, demo_secrets=False, ami=ami_settings(fake_asterisk))
    application = build_application(demo_config, settings, redis_client=client)
    bootstrap(application)
    application.background.start()
    thread = DriverThread(application, ami_settings(fake_asterisk), own_redis.url).start()
    yield application, thread
    thread.stop()
    application.stop()
    client.close()


def test_a_holding_caller_keeps_holding_through_a_restart_and_is_bridged_after_it(hotline, fake_asterisk, own_redis):
    application, driver = hotline
    AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")  # no agent free: the caller holds
    citizen.wait_for(lambda: citizen.music_on)
    assert call_state(application, CITIZEN_UNIQUEID) == "waiting"

    own_redis.stop()
    # The holder looks its call up during the outage (as at its next announcement): it is
    # told of a system error and keeps holding.
    driver.loop.call_soon_threadsafe(driver.driver.scripts.hold_watch.wake, CITIZEN_UNIQUEID)
    citizen.wait_for(lambda: any(played.endswith("/ko/system_error") for played in citizen.played))
    own_redis.start()

    citizen.wait_for(lambda: citizen.music_on)
    assert call_state(application, CITIZEN_UNIQUEID) == "waiting"
    make_available(application, "park.seojun")
    citizen.wait_executed("ConfBridge")
    assert application.routing.call(CITIZEN_UNIQUEID).agent_id == "park.seojun"
    citizen.hangup()
    wait_for(lambda: application.routing.agent("park.seojun").status == "wrapup")


def test_a_conversation_ends_normally_after_a_restart(hotline, fake_asterisk, own_redis):
    application, driver = hotline
    make_available(application, "kim.minji")
    phones = AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    citizen.wait_executed("ConfBridge")
    agent_leg = wait_for(lambda: phones.legs)[0]
    agent_leg.wait_executed("ConfBridge")

    own_redis.restart()

    assert application.routing.call(CITIZEN_UNIQUEID).state == "connected"
    agent_leg.hangup()
    wait_for(lambda: application.routing.agent("kim.minji").status == "wrapup")
    assert application.routing.call(CITIZEN_UNIQUEID).state == "ended"
    citizen.leave_application()
    citizen.wait_closed()


def test_a_conversation_that_ended_during_the_outage_is_closed_when_redis_is_back(hotline, fake_asterisk, own_redis):
    application, driver = hotline
    make_available(application, "kim.minji")
    phones = AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    citizen.wait_executed("ConfBridge")
    agent_leg = wait_for(lambda: phones.legs)[0]
    agent_leg.wait_executed("ConfBridge")
    resyncs_before = driver.driver.resyncs

    own_redis.stop()
    # Both sides hang up while OneCall cannot write it down: their FastAGI sessions and the
    # AMI Hangups fail to end the call.
    for channel in (agent_leg, citizen):
        channel.hangup()
        fake_asterisk.remove_channel(channel.uniqueid)
        channel.wait_closed()
    own_redis.start()

    wait_for(lambda: driver.driver.resyncs > resyncs_before)  # compared with Asterisk again
    assert application.routing.call(CITIZEN_UNIQUEID).state == "ended"
    assert application.routing.agent("kim.minji").status == "wrapup"  # not busy on a call that is gone
