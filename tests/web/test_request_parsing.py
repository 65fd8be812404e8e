"""The web tier's fast form parsing gives exactly what werkzeug's own parser gives."""
from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from webhooks.app import OneCallRequest

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
