"""Forged, missing and altered Twilio signatures are refused with 403 and change nothing."""
from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import ACCOUNT_SID, PUBLIC_URL
from tests.webhooks.helpers import KNOWN_CALLER, caller_params, dial_in, new_call_sid, twiml


def _redis_snapshot(redis_client) -> dict:
    return {key: redis_client.type(key) for key in redis_client.scan_iter("*")}


@pytest.mark.parametrize("forgery", ["missing", "other-token", "other-url", "garbage"])
def test_forged_first_request_is_refused_and_nothing_changes(app, client, twilio, redis_client, forgery):
    before = _redis_snapshot(redis_client)
    params = {"AccountSid": ACCOUNT_SID, **caller_params(new_call_sid(), KNOWN_CALLER, CallStatus="ringing")}
    signature = {
        "missing": "",
        "other-token": RequestValidator("not-the-auth-token").compute_signature(f"{PUBLIC_URL}/twilio/voice", params),
        "other-url": RequestValidator("test-auth-token-0123456789abcdef").compute_signature(
            "http://hotline.example.org/twilio/voice", params),
        "garbage": "bm90IGEgc2lnbmF0dXJl",
    }[forgery]
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = client.post("/twilio/voice", data=params, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert _redis_snapshot(redis_client) == before


def test_altered_parameter_is_refused_and_the_call_does_not_move(web, app, client, twilio, redis_client):
    application = web.application
    call_sid = new_call_sid()
    document = dial_in(twilio, call_sid, KNOWN_CALLER, "1")  # now at the department menu
    state_before = application.sessions.load(call_sid)
    action = document.find("Gather").get("action")
    signed_for = caller_params(call_sid, KNOWN_CALLER, Digits="2")
    signature = RequestValidator("test-auth-token-0123456789abcdef").compute_signature(
        action, {"AccountSid": ACCOUNT_SID, **signed_for})
    tampered = {"AccountSid": ACCOUNT_SID, **caller_params(call_sid, KNOWN_CALLER, Digits="5")}
    response = client.post(action[len(PUBLIC_URL):], data=tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert application.sessions.load(call_sid) == state_before
    assert application.routing.waiting_calls() == []
    # The genuine request still works afterwards.
    assert twiml(twilio.post(action, signed_for)).find("Dial/Conference") is not None


def test_agent_answer_with_forged_query_is_refused(app, client, twilio):
    url = f"{PUBLIC_URL}/twilio/agent-answer?call=CA00&agent=kim.minji"
    params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA11", "CallStatus": "in-progress"}
    signature = RequestValidator("test-auth-token-0123456789abcdef").compute_signature(url, params)
    forged_path = "/twilio/agent-answer?call=CA00&agent=park.seojun"  # agent swapped after signing
    assert client.post(forged_path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 403
