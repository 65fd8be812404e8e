"""The REST ringer against the Twilio API stand-in on a real socket."""
from __future__ import annotations

import logging

from routing.keys import Keys
from telephony.twilio.legs import TwilioLegs
from telephony.twilio.ringer import TwilioRinger
from telephony.twilio.urls import AgentLegUrls
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN


def test_ringing_does_not_log_request_headers_at_info(twilio_api, redis_client, caplog):
    # twilio's http_client logs every request's method, URL and headers at INFO
    caplog.set_level(logging.INFO)
    ringer = TwilioRinger(ACCOUNT_SID, AUTH_TOKEN, "+8222120120", 20,
                          lambda call, agent, leg: AgentLegUrls(f"https://h.example/a?{call}&{leg}",
                                                                f"https://h.example/s?{agent}&{leg}"),
                          legs=TwilioLegs(redis_client, Keys("120")), api_base_url=twilio_api.base_url)
    sid = ringer.ring("CA1", "kim.minji", "client:kim.minji")
    assert sid and twilio_api.calls[-1].to == "client:kim.minji"
    chatter = [r for r in caplog.records if r.name.startswith("twilio") and r.levelno < logging.WARNING]
    assert chatter == []
