"""Every TwiML document OneCall sends parses as XML and uses only the verbs, nesting and
attributes Twilio documents: structure is checked against the TwiML XSD in
../shared/protocol/twilio/, attribute names against the table of Twilio's generated TwiML
types (twiml.md), since the XSD predates speech input."""
from __future__ import annotations

import re

import pytest
from lxml import etree

from ivr.actions import Hangup, Say
from telephony.twilio.twiml import TwimlUrls
from tests.webhooks.helpers import caller_params, new_call_sid
from tests.conftest import SHARED_PROTOCOL

PROTOCOL = SHARED_PROTOCOL / "twilio"
# Attributes the XSD does not know but Twilio's generated TwiML types do (see twiml.md).
NEWER_ATTRIBUTES = {"language", "hints", "speechTimeout", "speechModel", "voice", "method", "waitMethod"}


def _documented_attributes() -> dict[str, set[str]]:
    """verb -> attribute names, read from the `| attribute |` tables of twiml.md."""
    text = (PROTOCOL / "twiml.md").read_text()
    tables: dict[str, set[str]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        verb = re.match(r"`<(\w+)>`", section)
        if verb:
            names = set(re.findall(r"^\| (\w+)(?: / (\w+))* \|", section, flags=re.M))
            tables[verb.group(1)] = {n for pair in names for n in pair if n} - {"attribute"}
    return tables


@pytest.fixture(scope="module")
def schema():
    if not PROTOCOL.exists():
        pytest.skip("../shared/protocol is not beside this checkout")
    document = etree.parse(str(PROTOCOL / "TwiML.community-fork-2022.xsd"))
    return etree.XMLSchema(document)


def _validate(xml: bytes, schema) -> None:
    tree = etree.fromstring(xml)
    documented = _documented_attributes()
    for element in tree.iter():
        allowed = documented.get(element.tag)
        for name in list(element.attrib):
            if allowed is not None:
                assert name in allowed | {"method"}, f"<{element.tag} {name}> is not a documented attribute"
            if name in NEWER_ATTRIBUTES:
                del element.attrib[name]  # known to Twilio, unknown to the old schema
        if element.tag == "Gather" and element.get("input") == "dtmf speech":
            element.set("input", "dtmf")  # twiml.md: a space-separated list; the schema predates lists
    assert schema.validate(tree), schema.error_log.last_error


def test_every_document_of_a_call_is_valid_twiml(web, client, twilio, schema):
    renderer = web.twilio.renderer
    documents = []
    call_sid = new_call_sid()
    response = twilio.post("/twilio/voice", caller_params(call_sid, "+821099990000", CallStatus="ringing"))
    documents.append(response.get_data())
    for digits in ("9", "2", "12345678"):
        action = etree.fromstring(documents[-1]).find("Gather").get("action")
        documents.append(twilio.post(action, caller_params(call_sid, "+821099990000", Digits=digits)).get_data())
    documents.append(twilio.post("/twilio/no-input", caller_params(call_sid, "+821099990000")).get_data())
    documents.append(twilio.post("/twilio/wait", caller_params(call_sid)).get_data())
    documents.append(twilio.post(f"/twilio/agent-answer?call={call_sid}&agent=kim.minji",
                                 {"CallSid": new_call_sid(), "CallStatus": "in-progress"}).get_data())
    documents.append(twilio.post("/twilio/queue-exit", caller_params(call_sid)).get_data())
    urls = TwimlUrls("https://h/g", "https://h/n", "https://h/w", "https://h/q")
    documents.append(renderer.render((Say("goodbye", "en"), Hangup()), urls, call_sid).encode())
    documents.append(renderer.agent_joins(call_sid, None).encode())
    for xml in documents:
        _validate(xml, schema)


def test_the_checker_rejects_an_undocumented_attribute(schema):
    with pytest.raises(AssertionError):
        _validate(b'<Response><Gather numDigits="1" colour="blue"/></Response>', schema)
    with pytest.raises(AssertionError):
        _validate(b"<Response><Gather><Dial>123</Dial></Gather></Response>", schema)
