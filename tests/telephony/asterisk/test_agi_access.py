"""Only the Asterisk OneCall drives may run its FastAGI scripts, and an agent script is
believed only for a leg OneCall rang itself. Over real sockets, with the fake AGI channel."""
from __future__ import annotations

import logging

import pytest

from hotline.errors import ConfigInvalid
from onecall.composition import build_application
from onecall.settings import agi_allow_list, load_settings
from tests.conftest import wait_for
from tests.fakes.agi_channel import FakeAgiChannel
from tests.fakes.ami_server import OriginateOutcome
from tests.telephony.asterisk.conftest import AMI_SECRET, AMI_USER
from tests.telephony.asterisk.harness import DriverThread
from tests.telephony.asterisk.test_asterisk_call import CITIZEN_UNIQUEID, call_state, citizen_channel, make_available


class HeldPhones:
    """Phones that answer every ring and hold: the agent leg's FastAGI is started by the test."""

    def __init__(self, fake_asterisk) -> None:
        self.answered = []
        fake_asterisk.on_originate = lambda action: OriginateOutcome("answer", then=self.answered.append)


def _agent_script(driver, uniqueid: str, call_id: str, agent_id: str, channel: str = "PJSIP/1003-0000000a"):
    leg = FakeAgiChannel("127.0.0.1", driver.agi_port, script="agent", uniqueid=uniqueid, channel=channel,
                         context="onecall-agent", extension="s",
                         variables={"ONECALL_CALL": call_id, "ONECALL_AGENT": agent_id})
    return leg.start()


def _router_view(application) -> tuple:
    call = application.routing.call(CITIZEN_UNIQUEID)
    agents = {a: application.routing.agent(a).status for a in ("kim.minji", "park.seojun")}
    return call.state, call.agent_id, agents, application.asterisk_state.legs()


def test_forged_agent_scripts_are_hung_up_and_change_nothing(asterisk_application, driver, fake_asterisk, caplog):
    application = asterisk_application
    make_available(application, "kim.minji", "park.seojun")
    phones = HeldPhones(fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    originate = fake_asterisk.wait_for_action("Originate")
    wait_for(lambda: phones.answered)
    real_leg = originate["ChannelId"]
    before = _router_view(application)
    assert before[:2] == ("reserved", "kim.minji")

    forgeries = [("1795349999.77", CITIZEN_UNIQUEID, "park.seojun"),  # the call is reserved to someone else
                 ("1795349999.78", CITIZEN_UNIQUEID, "kim.minji"),  # right agent, a leg OneCall never rang
                 (real_leg, CITIZEN_UNIQUEID, "park.seojun")]  # OneCall's leg, claimed for another agent
    for uniqueid, call_id, agent_id in forgeries:
        with caplog.at_level(logging.WARNING, logger="telephony.asterisk.agi_scripts"):
            forged = _agent_script(driver, uniqueid, call_id, agent_id)
            forged.wait_closed()
        assert forged.hung_up and not forged.executed and not forged.played
        assert _router_view(application) == before
        assert f"refused the agent script on {uniqueid}" in caplog.text

    # The leg OneCall rang is still accepted.
    agent_leg = _agent_script(driver, real_leg, CITIZEN_UNIQUEID, "kim.minji", channel="PJSIP/1001-00000001")
    agent_leg.wait_executed("ConfBridge")
    assert application.routing.call(CITIZEN_UNIQUEID).state == "connected"
    agent_leg.hangup()
    wait_for(lambda: application.routing.agent("kim.minji").status == "wrapup")
    citizen.hangup()


def test_a_connection_from_an_address_not_allowed_is_refused_before_anything_is_read(asterisk_application, driver,
                                                                                     fake_asterisk, caplog):
    make_available(asterisk_application, "kim.minji")
    fake_asterisk.add_channel("PJSIP/trunk-0001", CITIZEN_UNIQUEID, context="onecall-hotline", exten="120")
    with caplog.at_level(logging.WARNING, logger="telephony.asterisk.agi_scripts"):
        stranger = FakeAgiChannel("127.0.0.1", driver.agi_port, script="hotline", uniqueid=CITIZEN_UNIQUEID,
                                  keys="12", source_address="127.0.0.2")  # loopback, but not the Asterisk's address
        stranger.start()
        stranger.wait_closed()
    assert stranger.commands == []  # OneCall sent nothing: not even ANSWER
    assert call_state(asterisk_application, CITIZEN_UNIQUEID) is None
    assert not asterisk_application.asterisk_state.is_call(CITIZEN_UNIQUEID)
    assert "refused a FastAGI connection from 127.0.0.2" in caplog.text


def test_an_allowed_address_other_than_loopback_is_served(asterisk_application, fake_asterisk, redis_url):
    from tests.telephony.asterisk.conftest import ami_settings

    ami = ami_settings(fake_asterisk)
    ami = type(ami)(**{**ami.__dict__, "agi_allow": agi_allow_list("127.0.0.2", ami.host)})
    driver = DriverThread(asterisk_application, ami, redis_url).start()
    try:
        refused = FakeAgiChannel("127.0.0.1", driver.agi_port, script="hotline", keys="2").start()
        refused.wait_closed()
        served = FakeAgiChannel("127.0.0.1", driver.agi_port, script="hotline", keys="2",
                                source_address="127.0.0.2").start()
        served.wait_command("ANSWER")
        served.hangup()
        served.wait_closed()
        assert refused.commands == []
    finally:
        driver.stop()


# -- settings ------------------------------------------------------------------------------
def _env(fake_asterisk, **extra) -> dict:
    return {"ONECALL_AMI_HOST": "127.0.0.1", "ONECALL_AMI_PORT": str(fake_asterisk.port), "ONECALL_AMI_USER": AMI_USER,
            "ONECALL_AMI_SECRET": AMI_SECRET, "ONECALL_AGI_PORT": "0", "TWILIO_AUTH_TOKEN": "t",
            "ONECALL_API_TOKEN": "a", "ONECALL_SECRET_KEY": "s", **extra}


def test_the_fastagi_server_listens_on_loopback_by_default(demo_config, redis_client, redis_url, fake_asterisk):
    settings = load_settings(_env(fake_asterisk))
    assert settings.ami.agi_host == "127.0.0.1"
    assert settings.ami.agi_allow == ("127.0.0.1/32", "::1/128")  # the AMI host's address, and loopback
    application = build_application(demo_config, settings.with_redis(redis_url), redis_client=redis_client)
    driver = DriverThread(application, settings.ami, redis_url).start()
    try:
        assert {sock.getsockname()[0] for sock in driver.driver.agi_server.sockets} == {"127.0.0.1"}
    finally:
        driver.stop()
        application.stop()


def test_the_allowed_addresses_default_to_the_asterisk_and_loopback_and_can_be_set(fake_asterisk):
    assert load_settings(_env(fake_asterisk, ONECALL_AMI_HOST="192.0.2.10")).ami.agi_allow == (
        "192.0.2.10/32", "127.0.0.1/32", "::1/128")
    assert load_settings(_env(fake_asterisk, ONECALL_AGI_ALLOW="10.0.0.5, 10.1.0.0/16")).ami.agi_allow == (
        "10.0.0.5/32", "10.1.0.0/16")
    assert load_settings(_env(fake_asterisk, ONECALL_AGI_HOST="0.0.0.0")).ami.agi_host == "0.0.0.0"
    with pytest.raises(ConfigInvalid) as refused:
        load_settings(_env(fake_asterisk, ONECALL_AGI_ALLOW="10.0.0.5,asterisk.example.org"))
    assert dict(refused.value.problems) == {"ONECALL_AGI_ALLOW": "'asterisk.example.org' is not an IP address or network"}


def test_onecall_names_a_bad_allowed_address_and_exits(deployment_dir, monkeypatch, capsys):
    from onecall.cli import main

    monkeypatch.chdir(deployment_dir)
    monkeypatch.setenv("ONECALL_AMI_HOST", "127.0.0.1")
    monkeypatch.setenv("ONECALL_AGI_ALLOW", "10.0.0.300")
    assert main(["asterisk"]) == 2
    assert "ONECALL_AGI_ALLOW: '10.0.0.300' is not an IP address or network" in capsys.readouterr().err
