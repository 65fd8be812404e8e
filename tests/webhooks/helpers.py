"""Small helpers for web-tier tests: parse TwiML, make call ids, talk to the API."""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET

from tests.conftest import API_TOKEN

KNOWN_CALLER = "+821012345678"  # C-0001 in demo/citizens.jsonl: three departments with open items
UNKNOWN_CALLER = "+821099990000"


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.get_data())


def said(document: ET.Element) -> str:
    return " ".join((e.text or "") for e in document.iter("Say"))


def caller_params(call_sid: str, caller: str = KNOWN_CALLER, **extra) -> dict:
    return {"CallSid": call_sid, "From": caller, "To": "+8222120120", "CallStatus": "in-progress",
            "Direction": "inbound", "ApiVersion": "2010-04-01", **extra}


def set_status(client, agent_id: str, status: str):
    return client.post(f"/api/agents/{agent_id}/status", json={"status": status},
                       headers={"Authorization": f"Bearer {API_TOKEN}"})


def dial_in(twilio, call_sid: str, caller: str, *keys: str) -> ET.Element:
    """Call the hotline and answer each Gather with the given keys; returns the last TwiML."""
    document = twiml(twilio.post("/twilio/voice", caller_params(call_sid, caller, CallStatus="ringing")))
    for key in keys:
        gather = document.find("Gather")
        assert gather is not None, f"expected a menu before pressing {key!r}, got: {ET.tostring(document)!r}"
        field = "SpeechResult" if key.startswith("say:") else "Digits"
        value = key[4:] if key.startswith("say:") else key
        document = twiml(twilio.post(gather.get("action"), caller_params(call_sid, caller, **{field: value})))
    return document
