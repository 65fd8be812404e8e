"""The web tier's fast form parsing gives exactly what werkzeug's own parser gives."""
from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from webhooks.forms import OneCallRequest, parse_form

BODIES = [
    b"CallSid=CA1&From=%2B821012345678&To=%2B8222120120&CallStatus=ringing",
    b"SpeechResult=%EC%A3%BC%EC%B0%A8+%EA%B3%BC%ED%83%9C%EB%A3%8C&Confidence=0.9&Digits=",
    b"Digits=1&Digits=2&empty=&plus=a+b&pct=%25&bad=%E0%A4",
    b"",
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "application/x-www-form-urlencoded; charset=utf-8"])
def test_fast_form_equals_werkzeug(body, content_type):
    def environ():
        return EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ()

    fast, reference = OneCallRequest(environ()), Request(environ())
    assert list(fast.form.items(multi=True)) == list(reference.form.items(multi=True))
    assert fast.form.getall("Digits") == reference.form.getlist("Digits")
    assert fast.get_data() == reference.get_data() == b""


def test_other_bodies_take_werkzeugs_path():
    environ = EnvironBuilder(method="POST", data={"a": "1"}, content_type="multipart/form-data").get_environ()
    assert OneCallRequest(environ).form["a"] == "1"


# Pieces a form body is made of, good and broken: separators, escapes (also cut short or
# invalid UTF-8), '+' for a space, raw non-ASCII.
form_text = st.lists(st.sampled_from(list("ab=&+%2Fé한 ") + ["%2B", "%EC%A3%BC", "%E0%A4", "%%", "%zz"]),
                     max_size=20).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=form_text)
def test_parse_form_equals_the_parse_werkzeug_makes_for_any_body(text):
    reference = parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
    assert parse_form(text) == reference


def test_a_body_that_is_not_utf8_is_read_and_then_fails_its_signature_not_the_server():
    environ = EnvironBuilder(method="POST", data=b"CallSid=CA1&From=\xff\xfe",
                             content_type="application/x-www-form-urlencoded").get_environ()
    assert OneCallRequest(environ).form["From"] == "\ufffd\ufffd"
