"""On Asterisk too, the agent's desk hears at once that the call ended, and the outcome of
the answered call can still be saved once the agent is back at work."""
from __future__ import annotations

from tests.conftest import wait_for
from tests.telephony.asterisk.test_asterisk_call import CITIZEN_UNIQUEID, AgentPhones, citizen_channel, make_available


def test_an_asterisk_call_is_kept_for_its_outcome_and_its_end_reaches_the_desk(asterisk_application, driver,
                                                                                fake_asterisk):
    application = asterisk_application
    make_available(application, "kim.minji")
    phones = AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    agent_leg = wait_for(lambda: phones.legs)[0]
    agent_leg.wait_executed("ConfBridge")
    desk_events = application.pops.subscribe("kim.minji")
    try:
        agent_leg.hangup()
        event = wait_for(lambda: desk_events.next(timeout=0.2))
    finally:
        desk_events.close()
    assert event == ("ended", {"call_id": CITIZEN_UNIQUEID, "reason": event[1]["reason"]})
    wait_for(lambda: application.routing.agent("kim.minji").status == "wrapup")
    application.desk.finish_wrapup("kim.minji")

    snapshot = application.desk.snapshot("kim.minji")
    assert snapshot["agent"]["status"] == "available"
    assert snapshot["outcome_due"]["call_id"] == CITIZEN_UNIQUEID and snapshot["pop"]["citizen"]["id"] == "C-0001"
    application.desk.close_call("kim.minji", "수도 요금 분할 납부 안내", CITIZEN_UNIQUEID)
    entry = application.registry.consultations("C-0001")[0]
    assert entry["summary"] == "수도 요금 분할 납부 안내" and entry["call_id"] == CITIZEN_UNIQUEID
    citizen.leave_application()
    citizen.wait_closed()
