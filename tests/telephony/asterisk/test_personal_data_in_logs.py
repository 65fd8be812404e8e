"""A whole call on Asterisk, logged at DEBUG, leaves none of the citizen's personal data in
the logs (the AMI events and the FastAGI environment carry the caller's number)."""
from __future__ import annotations

import logging

from tests.conftest import wait_for
from tests.telephony.asterisk.test_asterisk_call import AgentPhones, citizen_channel, make_available
from tests.webhooks.test_profile_views import _personal_data


def test_a_whole_asterisk_call_logs_no_personal_data_of_the_citizen(asterisk_application, driver, fake_asterisk,
                                                                   caplog):
    caplog.set_level(logging.DEBUG)
    application = asterisk_application
    make_available(application, "kim.minji")
    phones = AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    agent_leg = wait_for(lambda: phones.legs)[0]
    agent_leg.wait_executed("ConfBridge")
    citizen.wait_executed("ConfBridge")
    agent_leg.hangup()
    wait_for(lambda: application.routing.agent("kim.minji").status == "wrapup")
    citizen.leave_application()
    citizen.wait_closed()

    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert logged, "the call logged nothing at all: the check would prove nothing"
    assert [value for value in _personal_data("C-0001") if value in logged] == []
