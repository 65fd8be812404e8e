"""The desk's softphone: Twilio Voice access tokens for the logged-in agent only, and the
page that loads the vendored Twilio Voice JavaScript SDK."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jwt
import pytest

from tests.conftest import ACCOUNT_SID, start_web_process
from tests.webhooks.test_desk import _login

API_KEY = "SK" + "12" * 16
API_SECRET = "softphone-api-secret-0123456789abcdef"
TWIML_APP = "AP" + "34" * 16
VENDOR = Path(__file__).resolve().parents[2] / "webhooks" / "static" / "vendor" / "twilio-voice"


@pytest.fixture()
def softphone_app(demo_config, settings, redis_client):
    configured = dataclasses.replace(settings, twilio_api_key=API_KEY, twilio_api_secret=API_SECRET,
                                     twilio_twiml_app_sid=TWIML_APP)
    process = start_web_process(demo_config, configured, redis_client)
    yield process.app
    process.stop()


def test_the_token_is_the_logged_in_agents_voice_identity(softphone_app):
    before = int(time.time())
    reply = _login(softphone_app).get("/desk/voice-token")
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    body = reply.get_json()
    claims = jwt.decode(body["token"], API_SECRET, algorithms=["HS256"])
    assert jwt.get_unverified_header(body["token"])["cty"] == "twilio-fpa;v=1"
    assert claims["iss"] == API_KEY and claims["sub"] == ACCOUNT_SID
    assert claims["grants"]["identity"] == "kim.minji" == body["identity"]
    assert claims["grants"]["voice"] == {"incoming": {"allow": True}, "outgoing": {"application_sid": TWIML_APP}}
    assert before <= claims["nbf"] and claims["exp"] == claims["nbf"] + 3600 == body["expires_at"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body["token"], "another-secret-of-the-same-length-0123", algorithms=["HS256"])


def test_the_token_is_refused_without_a_login_and_for_another_agent(softphone_app):
    assert softphone_app.test_client().get("/desk/voice-token").status_code == 401
    other = _login(softphone_app).get("/desk/voice-token", query_string={"agent": "lee.jiwon"})
    assert other.status_code == 403 and other.get_json()["error"] == "not-your-agent"


def test_an_agent_rung_on_a_phone_number_or_an_unconfigured_account_gets_no_token(softphone_app, app):
    phone_agent = _login(softphone_app, "shin.minho", "1012").get("/desk/voice-token")
    assert phone_agent.status_code == 404 and phone_agent.get_json()["error"] == "softphone-unavailable"
    unconfigured = _login(app).get("/desk/voice-token")
    assert unconfigured.status_code == 404 and unconfigured.get_json()["error"] == "softphone-unavailable"


def test_the_desk_page_loads_the_vendored_sdk(softphone_app):
    page = _login(softphone_app).get("/desk/").get_data(as_text=True)
    assert 'src="/static/vendor/twilio-voice/twilio.min.js"' in page and 'data-softphone="yes"' in page
    served = softphone_app.test_client().get("/static/vendor/twilio-voice/twilio.min.js")
    assert served.status_code == 200 and b"Twilio" in served.data and len(served.data) > 100_000
    version = (VENDOR / "VERSION").read_text()
    assert version.startswith("@twilio/voice-sdk ") and (VENDOR / "LICENSE.md").is_file()
    import hashlib
    assert hashlib.sha256(served.data).hexdigest() in version


def test_without_a_softphone_the_page_does_not_load_the_sdk(app):
    page = _login(app).get("/desk/").get_data(as_text=True)
    assert "twilio.min.js" not in page and 'data-softphone="no"' in page


def test_the_desk_page_announces_status_and_names_its_shortcuts(softphone_app):
    page = _login(softphone_app).get("/desk/").get_data(as_text=True)
    assert 'id="status" class="status" role="status" aria-live="polite"' in page
    for button, keys in (("answer", "Alt+A"), ("ready", "Alt+R"), ("hangup", "Alt+H"), ("mute", "Alt+M")):
        assert f'id="{button}" ' in page and f'aria-keyshortcuts="{keys}"' in page
    assert 'data-status="available" aria-keyshortcuts="Alt+1"' in page
    assert 'data-status="break" aria-keyshortcuts="Alt+2"' in page
    assert 'data-timezone="Asia/Seoul"' in page
