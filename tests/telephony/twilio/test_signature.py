"""`TwilioRequestValidator` signs exactly as Twilio does: the protocol's test vectors, and
the library's own `RequestValidator` on any parameters."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from telephony.twilio.signature import TwilioRequestValidator
from webhooks.forms import FormParams
from tests.conftest import SHARED_PROTOCOL

VECTORS = json.loads(((SHARED_PROTOCOL / "twilio")
                      / "signature_vectors.json").read_text())["vectors"]


def form(params: dict) -> FormParams:
    pairs = []
    for name, value in params.items():
        pairs.extend((name, v) for v in (value if isinstance(value, list) else [value]))
    return FormParams(pairs)


FORM_VECTORS = [v for v in VECTORS if "params" in v and v.get("locally_reproduced")]


@pytest.mark.parametrize("vector", FORM_VECTORS, ids=[v["id"] for v in FORM_VECTORS])
def test_the_protocol_vectors_signature_of_the_url_twilio_signed(vector):
    validator = TwilioRequestValidator(vector["auth_token"])
    assert validator.compute_signature(vector["signed_url"], form(vector["params"])) == vector["expected_signature"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_validate_decides_every_protocol_vector_as_twilios_library_does(vector):
    """Including the library's own limits: it does not normalise a URL the way twilio-node
    does, and a JSON body without bodySHA256 makes it raise."""
    params = form(vector["params"]) if "params" in vector else vector["body"]
    args = (vector["url"], params, vector["expected_signature"])
    try:
        expected = RequestValidator(vector["auth_token"]).validate(*args)
    except Exception as exc:
        with pytest.raises(type(exc)):
            TwilioRequestValidator(vector["auth_token"]).validate(*args)
    else:
        assert TwilioRequestValidator(vector["auth_token"]).validate(*args) is expected


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(text, text), max_size=12), url=st.sampled_from(
    ["https://hotline.example.org/twilio/voice", "http://127.0.0.1:8080/twilio/gather?call=CA1&n=2"]))
def test_the_same_signature_as_twilios_library_for_any_form(pairs, url):
    params = FormParams(pairs)
    assert (TwilioRequestValidator("token-ä").compute_signature(url, params)
            == RequestValidator("token-ä").compute_signature(url, params))


def test_a_plain_mapping_and_other_algorithms_are_signed_as_the_library_does():
    params = {"CallSid": "CA1", "From": "+821012345678", "Digits": "12"}
    url = "https://hotline.example.org/twilio/gather"
    ours, library = TwilioRequestValidator("t"), RequestValidator("t")
    assert ours.compute_signature(url, params) == library.compute_signature(url, params)
    assert ours.compute_signature(url, params, "HMAC_SHA256") == library.compute_signature(url, params, "HMAC_SHA256")
