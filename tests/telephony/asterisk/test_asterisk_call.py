"""A citizen's call on Asterisk, end to end over real sockets: the caller's channel talks
FastAGI to OneCall, the fake Asterisk speaks AMI, the router and screen pop are real."""
from __future__ import annotations

import hashlib
import hmac
import json

from routing import RoutingError
from tests.telephony.asterisk.conftest import KNOWN_CALLER
from tests.conftest import SCREENPOP_SECRET, wait_for
from tests.fakes.agi_channel import FakeAgiChannel
from tests.fakes.ami_server import OriginateOutcome

CITIZEN_UNIQUEID = "1795349864.3"


def call_state(application, call_id: str) -> str | None:
    """The router's state of a call, None while it has not reached the router."""
    try:
        return application.routing.call(call_id).state
    except RoutingError:
        return None


def make_available(application, *agent_ids: str) -> None:
    for agent_id in agent_ids:
        application.dispatcher.dispatch(application.routing.set_status(agent_id, "available"))


def citizen_channel(driver, fake_asterisk, keys: str, uniqueid: str = CITIZEN_UNIQUEID,
                    callerid: str = KNOWN_CALLER) -> FakeAgiChannel:
    channel_name = f"PJSIP/trunk-{uniqueid.replace('.', '')}"
    fake_asterisk.add_channel(channel_name, uniqueid, context="onecall-hotline", exten="120")
    channel = FakeAgiChannel("127.0.0.1", driver.agi_port, script="hotline", uniqueid=uniqueid,
                             channel=channel_name, callerid=callerid, keys=keys)
    channel.start()
    return channel


class AgentPhones:
    """Answers each Originate like a phone whose dialplan (`onecall-agent`) then hands the
    answered leg to OneCall over FastAGI."""

    def __init__(self, driver, fake_asterisk, answer: bool = True, first_answers: tuple[bool, ...] = ()) -> None:
        self.legs: list[FakeAgiChannel] = []
        self.answer = answer  # for every ring after the `first_answers`
        self._first_answers = list(first_answers)
        self._driver = driver
        fake_asterisk.on_originate = self.originated

    def originated(self, action) -> OriginateOutcome:
        answer = self._first_answers.pop(0) if self._first_answers else self.answer
        if not answer:
            return OriginateOutcome("no-answer")
        return OriginateOutcome("answer", then=self.run_agent_leg)

    def run_agent_leg(self, channel) -> None:
        leg = FakeAgiChannel("127.0.0.1", self._driver.agi_port, script="agent", uniqueid=channel.uniqueid,
                             channel=channel.channel, callerid="+8222120120", context="onecall-agent", extension="s",
                             variables=dict(channel.variables))
        self.legs.append(leg)
        leg.start()


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def test_known_caller_presses_fines_and_is_bridged_with_one_fines_agent(asterisk_application, driver, fake_asterisk,
                                                                        screenpop_receiver):
    application = asterisk_application
    make_available(application, "park.seojun", "kim.minji", "lee.jiwon")
    phones = AgentPhones(driver, fake_asterisk)

    citizen = citizen_channel(driver, fake_asterisk, keys="12")  # 1: Korean, 2: fines

    # Exactly one Originate, to the most proficient fines agent's phone, into OneCall's agent context.
    originate = fake_asterisk.wait_for_action("Originate")
    assert originate["Channel"] == "PJSIP/1001"
    assert originate["Context"] == "onecall-agent" and originate["Async"] == "true"
    assert set(_as_list(originate["Variable"])) == {f"ONECALL_CALL={CITIZEN_UNIQUEID}", "ONECALL_AGENT=kim.minji"}

    # The agent accepts, hears the whisper and enters the call's room; the citizen joins the same room.
    agent_leg = wait_for(lambda: phones.legs)[0]
    agent_leg.wait_executed("ConfBridge")
    citizen.wait_executed("ConfBridge")
    room = f"oc-{CITIZEN_UNIQUEID},onecall_bridge"
    assert [args for app, args in citizen.executed if app == "ConfBridge"] == [f"{room},onecall_caller"]
    assert [args for app, args in agent_leg.executed if app == "ConfBridge"] == [f"{room},onecall_agent"]
    assert any(played.endswith("/ko/agent_whisper") for played in agent_leg.played)
    assert application.routing.call(CITIZEN_UNIQUEID).state == "connected"
    assert application.routing.agent("kim.minji").status == "busy"
    assert len(fake_asterisk.actions_named("Originate")) == 1

    # The screen pop went out signed, with all three departments' open items.
    delivery = wait_for(lambda: screenpop_receiver.acknowledged())[0]
    expected = "sha256=" + hmac.new(SCREENPOP_SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["x-onecall-signature"] == expected
    pop = json.loads(delivery.body)
    assert pop["call"]["id"] == CITIZEN_UNIQUEID and pop["call"]["channel"] == "asterisk"
    assert pop["agent"]["id"] == "kim.minji"
    assert {d["department"] for d in pop["citizen"]["open_items"]} == {"local_tax", "fines", "water"}

    # The agent hangs up: the call ends, the agent goes to wrap-up, the citizen's room closes.
    agent_leg.hangup()
    wait_for(lambda: application.routing.agent("kim.minji").status == "wrapup")
    assert application.routing.call(CITIZEN_UNIQUEID).state == "ended"
    citizen.leave_application()  # end_marked: Asterisk takes the citizen out of the room
    citizen.wait_closed()
    assert "HANGUP" in citizen.commands


def test_caller_hears_menus_from_the_rendered_prompts_in_their_language(asterisk_application, driver, fake_asterisk):
    make_available(asterisk_application, "kim.minji")
    AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="2")  # 2: English, then nothing
    citizen.wait_for(lambda: any("/en/department_menu" in played for played in citizen.played))
    sounds = str(asterisk_application.config.prompt_audio_dir.resolve())
    assert citizen.played[:3] == [f"{sounds}/ko/welcome", f"{sounds}/ko/language_menu", f"{sounds}/en/department_menu"]
    citizen.hangup()
    citizen.wait_closed()


def test_unanswered_agent_gives_the_call_back_and_the_next_agent_is_rung(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    make_available(application, "kim.minji", "park.seojun")
    AgentPhones(driver, fake_asterisk, first_answers=(False,))
    citizen = citizen_channel(driver, fake_asterisk, keys="12")

    first = fake_asterisk.wait_for_action("Originate")
    assert first["Channel"] == "PJSIP/1001"
    second = fake_asterisk.wait_for_action("Originate", predicate=lambda a: a["Channel"] == "PJSIP/1003")
    assert second["ChannelId"] != first["ChannelId"]
    assert application.routing.agent("kim.minji").status == "break"  # missed: not offered calls until they are back
    citizen.wait_executed("ConfBridge")
    assert application.routing.call(CITIZEN_UNIQUEID).agent_id == "park.seojun"
    citizen.hangup()
    wait_for(lambda: application.routing.agent("park.seojun").status == "wrapup")


def test_caller_waits_with_position_until_an_agent_is_free(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    citizen.wait_for(lambda: citizen.music_on)
    sounds = str(application.config.prompt_audio_dir.resolve())
    assert f"{sounds}/ko/queue_position-1" in citizen.played
    assert application.routing.call(CITIZEN_UNIQUEID).state == "waiting"

    make_available(application, "park.seojun")
    citizen.wait_executed("ConfBridge")
    assert application.routing.call(CITIZEN_UNIQUEID).agent_id == "park.seojun"
    citizen.hangup()
    wait_for(lambda: application.routing.agent("park.seojun").status == "wrapup")


def test_a_driver_error_mid_call_still_routes_the_caller_to_a_person(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    make_available(application, "seo.dawon")  # general (the fallback skill) 5
    AgentPhones(driver, fake_asterisk)
    real_step = application.calls.step
    broken_once = []

    def step_that_breaks(state, event, channel):
        if not broken_once:
            broken_once.append(event)
            raise RuntimeError("a bug in the middle of the menu")
        return real_step(state, event, channel)

    application.calls.step = step_that_breaks
    citizen = citizen_channel(driver, fake_asterisk, keys="1")
    citizen.wait_executed("ConfBridge")
    record = application.routing.call(CITIZEN_UNIQUEID)
    assert (record.skill, record.agent_id) == ("general", "seo.dawon")
    citizen.hangup()
    wait_for(lambda: application.routing.agent("seo.dawon").status == "wrapup")
