"""Running the Asterisk driver: one AMI owner per Asterisk, the desktop ending a call, and
`onecall asterisk` / `onecall serve` started as an admin would."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

from tests.telephony.asterisk.conftest import AMI_SECRET, AMI_USER, ami_settings
from tests.telephony.asterisk.harness import DriverThread
from tests.telephony.asterisk.test_asterisk_call import CITIZEN_UNIQUEID, AgentPhones, citizen_channel, make_available
from tests.conftest import free_port, wait_for, wait_healthy


def test_desktop_ending_the_call_hangs_up_the_agent_leg_over_ami(asterisk_application, driver, fake_asterisk):
    application = asterisk_application
    make_available(application, "kim.minji")
    phones = AgentPhones(driver, fake_asterisk)
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    citizen.wait_executed("ConfBridge")
    agent_leg = wait_for(lambda: phones.legs)[0]
    agent_leg.wait_executed("ConfBridge")

    application.dispatcher.hang_up_agent_leg(CITIZEN_UNIQUEID)  # what the desktop's "end call" does

    hangup = fake_asterisk.wait_for_action("Hangup")
    assert hangup["Channel"] == agent_leg.channel
    agent_leg.hangup()  # the phone's side of that hang-up reaches its FastAGI session
    wait_for(lambda: application.routing.agent("kim.minji").status == "wrapup")
    citizen.hangup()


def test_a_second_driver_stands_by_until_the_owner_stops(asterisk_application, driver, fake_asterisk, redis_url):
    logins_before = fake_asterisk.logins
    second = DriverThread(asterisk_application, ami_settings(fake_asterisk), redis_url)
    started = threading.Event()

    def start_second():
        second.start(timeout=30)
        started.set()

    threading.Thread(target=start_second, daemon=True).start()
    assert not started.wait(1.0)  # the lease is held: it does not log in
    assert fake_asterisk.logins == logins_before

    driver.stop()  # the owner leaves and releases the lease
    assert started.wait(15)
    fake_asterisk.wait_logged_in(1)
    assert fake_asterisk.logins == logins_before + 1
    second.stop()


def _environment(fake_asterisk, redis_url: str, secret: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "TWILIO_", "ONECALL_"))}
    env.update(REDIS_URL=redis_url, ONECALL_AMI_HOST="127.0.0.1", ONECALL_AMI_PORT=str(fake_asterisk.port),
               ONECALL_AMI_USER=AMI_USER, ONECALL_AMI_SECRET=secret, ONECALL_AGI_HOST="127.0.0.1",
               ONECALL_AGI_PORT=str(free_port()))
    return env


def test_onecall_asterisk_with_a_wrong_secret_says_so_and_exits(deployment_dir, fake_asterisk, redis_url,
                                                                redis_client):
    result = subprocess.run([sys.executable, "-m", "onecall.cli", "asterisk"], cwd=deployment_dir,
                            env=_environment(fake_asterisk, redis_url, "wrong-secret"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "refused AMI user 'onecall': Authentication failed" in result.stderr
    assert "ONECALL_AMI_SECRET" in result.stderr
    assert "warning: callers would hear silence: 150 of 150 files missing" in result.stderr  # not built here


def test_onecall_serve_starts_the_asterisk_driver_beside_the_web_tier(deployment_dir, fake_asterisk, redis_url,
                                                                     redis_client):
    port = free_port()
    env = _environment(fake_asterisk, redis_url, AMI_SECRET)
    server = subprocess.Popen([sys.executable, "-m", "onecall.cli", "serve", "--port", str(port), "--workers", "1"],
                              cwd=deployment_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        wait_healthy(server, f"http://127.0.0.1:{port}")
        fake_asterisk.wait_logged_in(1)
        assert fake_asterisk.login_event_masks[-1] == "system,call"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Asterisk AMI:" in output


def test_onecall_serve_refuses_to_start_with_a_wrong_secret(deployment_dir, fake_asterisk, redis_url, redis_client):
    result = subprocess.run([sys.executable, "-m", "onecall.cli", "serve", "--port", str(free_port())],
                            cwd=deployment_dir, env=_environment(fake_asterisk, redis_url, "wrong-secret"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "refused AMI user 'onecall'" in result.stderr
    assert "the Asterisk driver did not start" in result.stderr


def _doctor(deployment_dir, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "onecall.cli", "doctor"], cwd=deployment_dir, env=env,
                          capture_output=True, text=True, timeout=60)


def test_doctor_checks_the_ami_login_and_the_prompt_audio(deployment_dir, fake_asterisk, redis_url, redis_client):
    from hotline.config import load_config
    from hotline.audio.render import plan_files, tts_voices

    missing_audio = _doctor(deployment_dir, _environment(fake_asterisk, redis_url, AMI_SECRET))
    assert missing_audio.returncode == 1
    assert "FAIL prompt audio: 150 of 150 files missing" in missing_audio.stdout
    assert f"ok   asterisk AMI: 127.0.0.1:{fake_asterisk.port} as onecall: logged in" in missing_audio.stdout
    assert not fake_asterisk.actions_named("Originate")  # a check never rings anyone

    config = load_config(deployment_dir / "config.yaml")
    for planned in plan_files(config.catalog, tts_voices(config))[0]:
        path = config.prompt_audio_dir / planned.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
    ready = _doctor(deployment_dir, _environment(fake_asterisk, redis_url, AMI_SECRET))
    assert ready.returncode == 0, ready.stdout
    assert "ok   agent phones: 12 of 12 agents have an asterisk_device" in ready.stdout

    refused = _doctor(deployment_dir, _environment(fake_asterisk, redis_url, "wrong"))
    assert refused.returncode == 1
    assert "FAIL asterisk AMI" in refused.stdout and "login refused (Authentication failed)" in refused.stdout


def test_a_ring_asked_for_by_another_process_goes_through_redis(asterisk_application, driver, fake_asterisk, redis_url):
    """The web tier's workers have no AMI: their rings reach the owner through Redis, and a
    garbled request there is skipped without stopping the ones behind it."""
    import redis

    from routing import CallRequest
    from routing.keys import Keys
    from telephony.asterisk.channels import AsteriskState
    from telephony.asterisk.driver import agent_devices
    from telephony.asterisk.ringer import AsteriskRinger

    application = asterisk_application
    application.routing.set_status("kim.minji", "available")
    AgentPhones(driver, fake_asterisk, answer=False)
    application.redis.rpush(driver.driver.state.requests_key, "not json")
    reservation = application.routing.enqueue(CallRequest(
        call_id=CITIZEN_UNIQUEID, skill="fines", language="ko", priority=0, citizen_id=None, caller="+821055501234",
        data={"verification": "none", "channel": "asterisk"})).reservation
    other_process = AsteriskRinger(AsteriskState(redis.Redis.from_url(redis_url, decode_responses=True),
                                                 Keys(application.config.hotline.id)), agent_devices(application.config))
    assert not other_process.owner_in_this_process  # not the AMI owner's process

    leg = other_process.ring(CITIZEN_UNIQUEID, reservation.agent_id, "")

    originate = fake_asterisk.wait_for_action("Originate", predicate=lambda a: a["ActionID"] == leg)
    assert originate["Channel"] == "PJSIP/1001" and originate["ChannelId"] == leg
