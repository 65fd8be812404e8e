"""`onecall serve` and its instance folder, with real processes: the embedded Redis keeps
its data in `instance/` across restarts (also after a kill -9), and a second `serve` in the
same folder is refused without disturbing the first."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import redis
import requests

from hotline.citizens import Consultation, CitizenRegistry
from routing.keys import Keys
from tests.conftest import free_port, wait_for

SKILLS = ("local_tax", "fines", "transport", "welfare", "water", "general")


def _onecall(*args: str) -> list[str]:
    return [sys.executable, "-m", "onecall.cli", *args]


def _environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "TWILIO_", "ONECALL_"))}
    env["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing here places calls
    return env


class Serve:
    """One `onecall serve` process in its own session (so a test can kill all of it at once)."""

    def __init__(self, workdir, port: int) -> None:
        self.workdir, self.port = workdir, port
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(workdir / f"serve-{port}-{os.urandom(3).hex()}.log", "w+")
        self.process = subprocess.Popen(_onecall("serve", "--port", str(port), "--workers", "1"), cwd=workdir,
                                        env=_environment(), stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait_healthy(self) -> "Serve":
        def healthy():
            if self.process.poll() is not None:
                pytest.fail(f"onecall serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                return requests.get(f"{self.base}/healthz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(healthy, timeout=30)
        return self

    @property
    def token(self) -> str:
        return json.loads((self.workdir / "instance" / "secrets.json").read_text())["api_token"]

    def api(self, method: str, path: str, **kwargs):
        return requests.request(method, f"{self.base}/api{path}", headers={"Authorization": f"Bearer {self.token}"},
                                timeout=5, **kwargs)

    def redis_url(self) -> str:
        return (self.workdir / "instance" / "redis-url").read_text().strip()

    def redis_pid(self) -> int:
        return int(redis.Redis.from_url(self.redis_url()).info("server")["process_id"])

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code

    def kill_all(self) -> None:
        """kill -9 of the server, its worker and its redis-server child, all at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _registry(server: Serve) -> CitizenRegistry:
    client = redis.Redis.from_url(server.redis_url(), decode_responses=True)
    return CitizenRegistry(client, Keys("120"), skills=SKILLS)


def _agent_status(server: Serve, agent_id: str) -> str:
    agents = server.api("GET", "/agents").json()["agents"]
    return next(agent["status"] for agent in agents if agent["agent_id"] == agent_id)


def _change_state(server: Serve, citizen_id: str, number: str, agent_id: str) -> None:
    reply = server.api("POST", "/citizens", json={"id": citizen_id, "name": "홍길동", "registry_number": number,
                                                  "phones": [f"010-7000-{number[-4:]}"]})
    assert reply.status_code == 201, reply.text
    reply = server.api("POST", f"/agents/{agent_id}/status", json={"status": "available"})
    assert reply.status_code == 200, reply.text
    _registry(server).add_consultation(citizen_id, Consultation(
        at=datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc), department="fines", agent=agent_id,
        summary=f"note for {citizen_id}"))


def _assert_state(server: Serve, citizen_id: str, number: str, agent_id: str) -> None:
    profile = server.api("GET", f"/citizens/{citizen_id}")
    assert profile.status_code == 200, profile.text
    assert f"note for {citizen_id}" in profile.text
    assert _registry(server).find_by_registry_number(number).citizen_id == citizen_id
    assert _agent_status(server, agent_id) == "available"


@pytest.fixture()
def workdir(deployment_dir):
    return deployment_dir


def test_the_embedded_redis_keeps_its_data_across_a_restart(workdir):
    first = Serve(workdir, free_port()).wait_healthy()
    _change_state(first, "C-7001", "70010001", "yoon.taeho")
    redis_pid = first.redis_pid()
    assert first.stop() == 0
    assert _gone(redis_pid) and not (workdir / "instance" / "redis-url").exists()
    assert list((workdir / "instance").glob("appendonly*"))  # the data is in the instance folder

    second = Serve(workdir, free_port()).wait_healthy()
    try:
        _assert_state(second, "C-7001", "70010001", "yoon.taeho")
        assert second.api("GET", "/citizens/C-0001").status_code == 200  # the demo seed is there too
    finally:
        second.stop()


def test_a_kill_9_of_the_server_and_its_redis_loses_nothing_acknowledged(workdir):
    """appendfsync everysec: Redis writes each change to the AOF before it replies (unless a
    disk too slow for the previous second's fsync makes it hold writes back) and fsyncs once
    a second. A killed process loses nothing it acknowledged; a power loss, the last second."""
    first = Serve(workdir, free_port()).wait_healthy()
    _change_state(first, "C-7002", "70020002", "kim.minji")
    redis_pid = first.redis_pid()
    first.kill_all()
    wait_for(lambda: _gone(redis_pid))

    second = Serve(workdir, free_port()).wait_healthy()  # the killed server's lock does not block it
    try:
        _assert_state(second, "C-7002", "70020002", "kim.minji")
    finally:
        second.stop()


def test_a_kill_9_of_serve_alone_takes_its_redis_down_and_the_next_start_works(workdir):
    port = free_port()
    first = Serve(workdir, port).wait_healthy()
    _change_state(first, "C-7003", "70030003", "lee.jiwon")
    redis_pid = first.redis_pid()
    first.stop(signal.SIGKILL)
    wait_for(lambda: _gone(redis_pid))  # no orphan redis-server keeps the instance's files
    wait_for(lambda: _port_free(port))  # the worker noticed its server is gone

    second = Serve(workdir, port).wait_healthy()
    try:
        _assert_state(second, "C-7003", "70030003", "lee.jiwon")
    finally:
        second.stop()


def test_a_second_serve_in_the_same_folder_is_refused_and_the_first_keeps_working(workdir):
    port = free_port()
    first = Serve(workdir, port).wait_healthy()
    try:
        url = first.redis_url()
        for second_port in (port, free_port()):  # the same port (in use) and another one
            second = subprocess.run(_onecall("serve", "--port", str(second_port), "--workers", "1"), cwd=workdir,
                                    env=_environment(), capture_output=True, text=True, timeout=60)
            assert second.returncode == 2, second.stdout + second.stderr
            assert "already running in this folder" in second.stderr
            assert f"pid {first.process.pid}" in second.stderr
        assert first.redis_url() == url
        assert requests.get(f"{first.base}/healthz", timeout=5).status_code == 200

        citizens = workdir / "more.jsonl"
        citizens.write_text(json.dumps({"id": "C-7101", "name": "홍길동", "phones": ["010-7100-0001"]}) + "\n")
        imported = subprocess.run(_onecall("citizens", "import", str(citizens)), cwd=workdir, env=_environment(),
                                  capture_output=True, text=True, timeout=30)
        assert imported.returncode == 0, imported.stderr
        assert first.api("GET", "/citizens/C-7101").status_code == 200
        doctor = subprocess.run(_onecall("doctor"), cwd=workdir, env=_environment(),
                                capture_output=True, text=True, timeout=60)
        assert f"{url} answers" in doctor.stdout, doctor.stdout
    finally:
        first.stop()


def test_serve_on_a_port_in_use_says_so_and_starts_nothing(workdir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(_onecall("serve", "--port", str(port), "--workers", "1"), cwd=workdir,
                                env=_environment(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert not (workdir / "instance" / "redis-url").exists()
