"""Fixtures of the real-Asterisk tier: the built Asterisk with a configuration generated
from `deploy/asterisk/`, the demo hotline with Local channels as phones, and OneCall's
Asterisk driver (AMI + FastAGI on loopback) against it.

The tier runs when an Asterisk built by `../shared/asterisk/build.sh` is in
$ONECALL_ASTERISK_PREFIX (default /var/cache/onecall-asterisk/22.10.1, where
`.ci/asterisk.sh` builds it); otherwise its tests are skipped with the reason.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest
import yaml

from hotline.config import OneCallConfig, load_config
from onecall.bootstrap import bootstrap
from onecall.composition import build_application
from onecall.settings import AmiSettings, Settings
from tests.conftest import ROOT, SCREENPOP_SECRET
from tests.integration.ami_session import AmiSession
from tests.integration.asterisk_process import RealAsterisk, asterisk_binary, asterisk_prefix, free_port
from tests.integration.relay import FastAgiRelay
from tests.telephony.asterisk.harness import DriverThread

KNOWN_CALLER = "+821012345678"  # demo citizen C-0001: open items in three departments


def pytest_collection_modifyitems(config, items):
    binary = asterisk_binary()
    espeak = shutil.which("espeak-ng")
    for item in items:
        if "asterisk_real" not in item.keywords:
            continue
        if binary is None:
            item.add_marker(pytest.mark.skip(reason=(
                f"no Asterisk built in {asterisk_prefix()}: run .ci/asterisk.sh "
                "(or set ONECALL_ASTERISK_PREFIX to a ../shared/asterisk/build.sh prefix)")))
        elif espeak is None:
            item.add_marker(pytest.mark.skip(reason="espeak-ng is not installed: the prompts cannot be rendered"))


@pytest.fixture(scope="session")
def prompt_sounds(tmp_path_factory):
    """The demo catalog rendered once for the tier (Asterisk plays these files)."""
    out = tmp_path_factory.mktemp("prompt-audio")
    subprocess.run([sys.executable, "-m", "onecall.cli", "--config", str(ROOT / "config.yaml"),
                    "prompts", "build", "--out", str(out)], check=True, capture_output=True, cwd=ROOT)
    return out


def local_phones_config(tmp_path, sounds) -> OneCallConfig:
    """The demo config with every agent's phone a Local channel into `fake-phones`, rings
    long enough that only OneCall (or the agent) ends them, and the rendered prompts."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    for agent in data["agents"]:
        extension = agent["asterisk_device"].split("/", 1)[1]  # PJSIP/1001 -> 1001
        agent["asterisk_device"] = f"Local/{extension}@fake-phones"
    data["routing"].update(ring_timeout_seconds=120, reservation_timeout_seconds=120)
    data["asterisk"]["sounds_dir"] = str(sounds)
    data["files"] = {"prompts": str(ROOT / "prompts" / "catalog.yaml"), "flow": str(ROOT / "flows" / "main.yaml"),
                     "prompt_audio": str(sounds)}
    data["citizens"]["seed_file"] = str(ROOT / "demo" / "citizens.jsonl")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_config(path)


class Hotline:
    """Asterisk + OneCall wired together; `relay=True` puts the FastAGI path through a
    FastAgiRelay that a test can make lose the Asterisk host."""

    def __init__(self, tmp_path, config, redis_url, redis_client, screenpop_url, relay: bool) -> None:
        self.config = config
        self.redis = redis_client
        self.agi_port = free_port()
        self.relay = FastAgiRelay(self.agi_port).start() if relay else None
        agi_address = f"127.0.0.1:{self.relay.port if relay else self.agi_port}"
        moh = tmp_path / "moh"
        moh.mkdir()
        shutil.copy(config.prompt_audio_dir / "ko" / "please_hold.wav", moh / "please_hold.wav")
        self.asterisk = RealAsterisk(asterisk_binary(), tmp_path / "asterisk", agi_address=agi_address, moh_dir=moh)
        self.asterisk.start()
        try:
            self._start_onecall(redis_url, screenpop_url)
        except BaseException:
            self.asterisk.stop()  # no Asterisk left running behind a failed set-up
            if self.relay is not None:
                self.relay.close()
            raise

    def _start_onecall(self, redis_url: str, screenpop_url: str) -> None:
        self.ami = AmiSession(self.asterisk.ami_port, "tester", self.asterisk.tester_secret).connect()
        settings = Settings(
            config_path=self.config.source, redis_url=redis_url, public_url="https://hotline.example.org",
            twilio_account_sid="AC" + "ab" * 16, twilio_auth_token="unused-here",
            twilio_api_base_url="http://127.0.0.1:9", api_token="test-api-token", secret_key="test-secret-key",
            screenpop_url=screenpop_url, screenpop_secret=SCREENPOP_SECRET, demo_secrets=False,
            ami=self.ami_settings())
        self.application = build_application(self.config, settings, redis_client=self.redis)
        bootstrap(self.application)
        self.application.background.start()
        self.driver = DriverThread(self.application, self.ami_settings(), redis_url).start(timeout=30)

    def ami_settings(self) -> AmiSettings:
        return AmiSettings(host="127.0.0.1", port=self.asterisk.ami_port, username=self.asterisk.user,
                           secret=self.asterisk.secret, agi_host="127.0.0.1", agi_port=self.agi_port)

    def reconnect_tester(self, timeout: float = 60.0) -> None:
        """After Asterisk restarted: the test's own AMI session logs in again."""
        self.ami.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.ami = AmiSession(self.asterisk.ami_port, "tester", self.asterisk.tester_secret).connect()
                return
            except (OSError, TimeoutError, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def resyncs(self) -> int:
        return self.driver.driver.resyncs

    def close(self) -> None:
        self.driver.stop()
        self.application.stop()
        self.ami.close()
        self.asterisk.stop()
        if self.relay is not None:
            self.relay.close()

    # -- the router, as the tests read it ----------------------------------------------------
    def agent_status(self, agent_id: str) -> str:
        return self.application.routing.agent(agent_id).status

    def call_field(self, call_id: str, field: str) -> str | None:
        return self.redis.hget(self.application.routing.keys.call(call_id), field)

    def make_available(self, *agent_ids: str) -> None:
        for agent_id in agent_ids:
            self.application.dispatcher.dispatch(self.application.routing.set_status(agent_id, "available"))

    def agent_leg(self, call_id: str) -> str | None:
        return self.redis.hget(self.application.routing.keys.asterisk_leg_of, call_id)


class Citizen:
    """A citizen's phone: a Local channel originated into the hotline context. Its ;2 half
    runs the hotline dialplan (its Uniqueid is OneCall's call id); its ;1 half is the
    handset, where the test plays keys (AMI PlayDTMF) when a given prompt starts."""

    def __init__(self, ami: AmiSession, callerid: str = KNOWN_CALLER) -> None:
        self.ami = ami
        self.callerid = callerid
        self.handset = self.line = self.call_id = ""

    def dial(self, keys: list[tuple[str, str]]) -> "Citizen":
        """`keys`: (prompt id, key) pressed in order, each as soon as that prompt starts playing."""
        mark = self.ami.mark()
        reply = self.ami.action({"Action": "Originate", "Channel": "Local/120@onecall-hotline",
                                 "Context": "citizen-phone", "Exten": "s", "Priority": "1",
                                 "CallerID": f"<{self.callerid}>", "Async": "true", "Timeout": "30000"})
        assert reply.get("Response") == "Success", reply
        line = self.ami.wait_event(lambda e: e.get("Event") == "Newchannel"
                                   and e.get("Channel", "").startswith("Local/120@onecall-hotline-")
                                   and e["Channel"].endswith(";2"), since=mark)
        self.line, self.call_id = line["Channel"], line["Uniqueid"]
        self.handset = self.line[:-1] + "1"
        for prompt, key in keys:
            self.ami.wait_event(lambda e: e.get("Event") == "AGIExecStart" and e.get("Channel") == self.line
                                and f"/{prompt} " in e.get("Command", "") + " ", since=mark, timeout=60)
            mark = self.ami.mark()
            self.ami.action({"Action": "PlayDTMF", "Channel": self.handset, "Digit": key, "Duration": "120"})
        return self

    def hang_up(self) -> None:
        self.ami.action({"Action": "Hangup", "Channel": self.handset})


@pytest.fixture()
def hotline_factory(tmp_path, prompt_sounds, redis_url, redis_client, screenpop_receiver):
    made: list[Hotline] = []

    def make(relay: bool = False) -> Hotline:
        config = local_phones_config(tmp_path, prompt_sounds)
        made.append(Hotline(tmp_path, config, redis_url, redis_client, screenpop_receiver.url, relay))
        return made[-1]

    yield make
    for hotline in made:
        hotline.close()


@pytest.fixture()
def hotline(hotline_factory):
    return hotline_factory()


def in_room(hotline: Hotline, call_id: str) -> set[str]:
    """Channels Asterisk has in the call's ConfBridge room `oc-<call id>`."""
    mark = hotline.ami.mark()
    reply = hotline.ami.action({"Action": "ConfbridgeList", "Conference": f"oc-{call_id}"})
    if reply.get("Response") != "Success":
        return set()  # no such conference
    action_id = reply["ActionID"]
    hotline.ami.wait_event(lambda e: e.get("ActionID") == action_id
                           and e.get("Event") == "ConfbridgeListComplete", since=mark)
    return {e.get("Channel") for e in hotline.ami.events[mark:]
            if e.get("ActionID") == action_id and e.get("Event") == "ConfbridgeList"}
