"""The README's commands as a new user runs them: `onecall serve` on the demo config with
its embedded Redis, an agent made available through the API, `onecall call` reaching
them, and `onecall citizens import`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from tests.conftest import free_port, wait_healthy



@pytest.fixture()
def workdir(deployment_dir):
    return deployment_dir


def _onecall(*args: str) -> list[str]:
    return [sys.executable, "-m", "onecall.cli", *args]


def test_serve_with_embedded_redis_then_simulated_call(workdir):
    port, standin = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "TWILIO_", "ONECALL_"))}
    env["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{standin}"
    server = subprocess.Popen(_onecall("serve", "--port", str(port), "--workers", "1"), cwd=workdir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(server, base)
        assert (workdir / "instance" / "redis-url").read_text().startswith("redis://127.0.0.1:")  # embedded
        token = json.loads((workdir / "instance" / "secrets.json").read_text())["api_token"]
        reply = requests.post(f"{base}/api/agents/yoon.taeho/status", json={"status": "available"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert reply.status_code == 200, reply.text
        call = subprocess.run(_onecall("call", "--server", base, "--press", "1,2", "--talk", "0.2",
                                       "--twilio-port", str(standin)),
                              cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
        assert call.returncode == 0, call.stdout + call.stderr
        assert "connected to client:yoon.taeho" in call.stdout
        assert "다산콜센터" in call.stdout

        citizens = workdir / "more.jsonl"
        citizens.write_text(json.dumps({"id": "C-7001", "name": "홍길동", "phones": ["010-7000-0001"]}) + "\n")
        imported = subprocess.run(_onecall("citizens", "import", str(citizens)), cwd=workdir, env=env,
                                  capture_output=True, text=True, timeout=30)
        assert imported.returncode == 0, imported.stderr
        assert "imported 1 citizens" in imported.stdout
        profile = requests.get(f"{base}/api/citizens/C-7001", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert profile.json()["phones"] == ["+821070000001"]
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert not (workdir / "instance" / "redis-url").exists()  # the embedded Redis went away with the server


def test_citizens_import_refuses_a_bad_file_whole(workdir, redis_url, redis_client):
    bad = workdir / "bad.jsonl"
    bad.write_text('{"id": "C-1", "name": "a"}\n{"id": "C-2"}\n')
    env = {**os.environ, "REDIS_URL": redis_url}
    result = subprocess.run(_onecall("citizens", "import", str(bad)), cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "line 2: name: is required" in result.stderr
    assert not redis_client.exists("oc:{120}:citizen:C-1")


def test_citizens_import_prints_every_problem_one_per_line(workdir, redis_url, redis_client):
    held = workdir / "held.jsonl"
    held.write_text(json.dumps({"id": "C-1", "name": "a", "registry_number": "10001000"}) + "\n")
    env = {**os.environ, "REDIS_URL": redis_url}
    first = subprocess.run(_onecall("citizens", "import", str(held)), cwd=workdir, env=env,
                           capture_output=True, text=True, timeout=30)
    assert first.returncode == 0, first.stderr
    bad = workdir / "bad.jsonl"
    bad.write_text("\n".join(json.dumps(r) for r in [
        {"id": "C-2", "name": "good"},
        {"id": "C-3", "name": "b", "registry_number": "10001000"},
        {"id": "C-4", "name": "c", "phones": ["n/a"]},
        {"id": "C-5", "name": "d", "consultations": [{"at": "2026-01-01T09:00:00+09:00", "department": "zoo"}]},
    ]) + "\n")
    result = subprocess.run(_onecall("citizens", "import", str(bad)), cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{bad}: line 2: registry_number: 10001000 already belongs to citizen C-1")
    assert "C-3" in lines[0]
    assert lines[1].startswith(f"{bad}: line 3: phones[0]: is not a phone number")
    assert lines[2].startswith(f"{bad}: line 4: consultations[0].department: 'zoo' is not a configured skill")
    assert lines[3] == f"{bad}: nothing imported (3 problems)"
    assert not redis_client.exists("oc:{120}:citizen:C-2")
