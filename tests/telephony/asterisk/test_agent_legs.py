"""On Asterisk too, only the agent leg that accepted a call may end it; any other leg's end
is at most a missed offer. A leg still ringing when the citizen leaves is hung up at once."""
from __future__ import annotations

from tests.conftest import wait_for
from tests.fakes.ami_server import OriginateOutcome
from tests.telephony.asterisk.test_asterisk_call import CITIZEN_UNIQUEID, AgentPhones, citizen_channel, make_available

RESERVATIONS = "oc:{120}:reservations"


class FirstRingRingsOn:
    """The first Originate rings until something hangs it up; later ones are answered by
    `phones` (or ring on too, with `answer_later=False`)."""

    def __init__(self, driver, fake_asterisk, answer_later: bool = True) -> None:
        self.phones = AgentPhones(driver, fake_asterisk)
        self.legs: list[str] = []
        self._answer_later = answer_later
        fake_asterisk.on_originate = self.originated

    def originated(self, action) -> OriginateOutcome:
        self.legs.append(action.first("ChannelId"))
        if len(self.legs) == 1 or not self._answer_later:
            return OriginateOutcome("no-answer", delay=60)
        return self.phones.originated(action)


def _ringing(fake_asterisk, rings: FirstRingRingsOn, n: int) -> str:
    leg = wait_for(lambda: rings.legs[n] if len(rings.legs) > n else None)
    wait_for(lambda: leg in fake_asterisk.channels)
    return leg


def _ring_times_out(application) -> None:
    application.redis.zadd(RESERVATIONS, {CITIZEN_UNIQUEID: 0})
    application.dispatcher.sweep()
    assert application.routing.call(CITIZEN_UNIQUEID).state == "waiting"


def _leg_hangs_up(application, fake_asterisk, leg: str) -> None:
    fake_asterisk.remove_channel(leg)  # the old leg's phone gives up: Asterisk reports its Hangup
    wait_for(lambda: application.asterisk_state.leg(leg) is None)  # the driver has handled it


def test_an_old_leg_hanging_up_does_not_end_the_call_its_agent_took_on_a_new_leg(asterisk_application, driver,
                                                                               fake_asterisk):
    application = asterisk_application
    make_available(application, "kim.minji")  # the only fines agent free
    rings = FirstRingRingsOn(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    old_leg = _ringing(fake_asterisk, rings, 0)
    _ring_times_out(application)
    make_available(application, "kim.minji")  # back from break: offered the same call again, answers
    citizen.wait_executed("ConfBridge")
    assert application.routing.call(CITIZEN_UNIQUEID).state == "connected"

    _leg_hangs_up(application, fake_asterisk, old_leg)

    assert application.routing.call(CITIZEN_UNIQUEID).state == "connected"
    assert application.routing.agent("kim.minji").status == "busy"
    citizen.hangup()


def test_an_old_leg_hanging_up_does_not_take_the_new_ring_from_its_agent(asterisk_application, driver,
                                                                        fake_asterisk):
    application = asterisk_application
    make_available(application, "kim.minji")
    rings = FirstRingRingsOn(driver, fake_asterisk, answer_later=False)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    old_leg = _ringing(fake_asterisk, rings, 0)
    _ring_times_out(application)
    make_available(application, "kim.minji")
    _ringing(fake_asterisk, rings, 1)

    _leg_hangs_up(application, fake_asterisk, old_leg)

    assert application.routing.call(CITIZEN_UNIQUEID).state == "reserved"
    assert application.routing.agent("kim.minji").status == "reserved"
    citizen.hangup()


def test_the_citizen_leaving_hangs_up_the_ringing_leg_and_frees_the_agent(asterisk_application, driver,
                                                                         fake_asterisk):
    application = asterisk_application
    make_available(application, "kim.minji")
    rings = FirstRingRingsOn(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    leg = _ringing(fake_asterisk, rings, 0)

    citizen.hangup()

    hangup = fake_asterisk.wait_for_action("Hangup")
    assert hangup["Channel"] == leg  # by the Uniqueid OneCall gave it: its name is not known yet
    wait_for(lambda: leg not in fake_asterisk.channels)
    assert application.routing.call(CITIZEN_UNIQUEID).state == "ended"
    assert application.routing.agent("kim.minji").status == "available"  # not on break: not their fault
    assert len(fake_asterisk.actions_named("Hangup")) == 1


def test_a_late_failure_of_an_old_ring_does_not_take_the_new_ring_from_its_agent(asterisk_application):
    from onecall.composition import build_asterisk_events
    from routing import CallRequest

    application = asterisk_application
    state, events = application.asterisk_state, build_asterisk_events(application)
    call_id = "1795349999.2"
    application.routing.set_status("kim.minji", "available")
    state.track_call(call_id, "PJSIP/trunk-2")
    application.routing.enqueue(CallRequest(call_id=call_id, skill="fines", language="ko",
                                            data={"channel": "asterisk"}))
    old_leg = state.ring(call_id, "kim.minji", "PJSIP/1001", owner_here=lambda request: None)
    application.redis.zadd(RESERVATIONS, {call_id: 0})
    application.dispatcher.sweep()  # timed out: back in the queue, kim.minji on break
    application.routing.set_status("kim.minji", "available")  # reserved for the same call again
    state.ring(call_id, "kim.minji", "PJSIP/1001", owner_here=lambda request: None)

    events.dispatch({"Event": "OriginateResponse", "ActionID": old_leg, "Response": "Failure", "Reason": "3",
                     "Uniqueid": old_leg, "Channel": "PJSIP/1001"})

    assert application.routing.call(call_id).state == "reserved"
    assert application.routing.agent("kim.minji").status == "reserved"


def test_an_old_leg_answering_late_cannot_take_the_call_from_the_new_ring(asterisk_application, driver,
                                                                         fake_asterisk):
    """The agent is rung again for the same call; the old leg's late answer hears "call
    already taken" and the call stays offered on the new leg."""
    from tests.fakes.agi_channel import FakeAgiChannel

    application = asterisk_application
    make_available(application, "kim.minji")
    rings = FirstRingRingsOn(driver, fake_asterisk, answer_later=False)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    old_leg = _ringing(fake_asterisk, rings, 0)
    _ring_times_out(application)
    make_available(application, "kim.minji")
    _ringing(fake_asterisk, rings, 1)

    late = FakeAgiChannel("127.0.0.1", driver.agi_port, script="agent", uniqueid=old_leg,
                          channel=fake_asterisk.channels[old_leg].channel, callerid="+8222120120",
                          context="onecall-agent", extension="s",
                          variables={"ONECALL_CALL": CITIZEN_UNIQUEID, "ONECALL_AGENT": "kim.minji"}).start()
    late.wait_played("call_already_taken")

    assert application.routing.call(CITIZEN_UNIQUEID).state == "reserved"
    assert application.routing.agent("kim.minji").status == "reserved"
    late.close()
    citizen.hangup()
