"""Fixtures for the Asterisk driver: a fake Asterisk (AMI over TCP), the demo hotline's
application pointed at it, and the driver itself on its own loop."""
from __future__ import annotations

import pytest

from onecall.bootstrap import bootstrap
from onecall.composition import build_application
from onecall.settings import AmiSettings, Settings
from tests.telephony.asterisk.harness import DriverThread
from tests.conftest import SCREENPOP_SECRET
from tests.fakes.ami_server import FakeAsterisk

AMI_USER, AMI_SECRET = "onecall", "s3cret-ami"
KNOWN_CALLER = "+821012345678"  # demo citizen C-0001: open items in three departments


@pytest.fixture()
def fake_asterisk():
    asterisk = FakeAsterisk(username=AMI_USER, secret=AMI_SECRET)
    asterisk.start()
    yield asterisk
    asterisk.stop()


def ami_settings(fake, secret: str = AMI_SECRET) -> AmiSettings:
    return AmiSettings(host="127.0.0.1", port=fake.port, username=AMI_USER, secret=secret,
                       agi_host="127.0.0.1", agi_port=0)


@pytest.fixture()
def asterisk_application(demo_config, redis_url, redis_client, fake_asterisk, screenpop_receiver):
    settings = Settings(
        config_path="config.yaml", redis_url=redis_url, public_url="https://hotline.example.org",
        twilio_account_sid="AC" + "ab" * 16, twilio_auth_token="unused-here", twilio_api_base_url="http://127.0.0.1:9",
        api_token="test-api-token", secret_key="test-secret-key", screenpop_url=screenpop_receiver.url,
        screenpop_secret=SCREENPOP_SECRET, demo_secrets=False, ami=ami_settings(fake_asterisk))
    application = build_application(demo_config, settings, redis_client=redis_client)
    bootstrap(application)
    application.background.start()
    yield application
    application.stop()


@pytest.fixture()
def driver(asterisk_application, fake_asterisk, redis_url):
    thread = DriverThread(asterisk_application, ami_settings(fake_asterisk), redis_url).start()
    yield thread
    thread.stop()
