"""`onecall call` against a live OneCall over real sockets: the simulated citizen presses
keys, the simulator's Twilio API stand-in receives the agent leg, the agent answers and
the two meet in the caller's conference."""
from __future__ import annotations

import dataclasses
import threading

import pytest
from werkzeug.serving import make_server

from devtools.simulator import simulate_call
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, free_port, start_web_process


@pytest.fixture()
def live_server(demo_config, settings, redis_client):
    standin_port = free_port()
    live_settings = dataclasses.replace(settings, public_url=None, twilio_api_base_url=f"http://127.0.0.1:{standin_port}")
    server_port = free_port()
    web = start_web_process(demo_config, live_settings, redis_client, base_url=f"http://127.0.0.1:{server_port}")
    server = make_server("127.0.0.1", server_port, web.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server_port}", standin_port, web.application
    server.shutdown()
    web.stop()


def test_simulated_call_reaches_the_best_agent(live_server):
    url, standin_port, application = live_server
    application.routing.set_status("yoon.taeho", "available")
    application.routing.set_status("jung.hoon", "available")
    heard = []
    transcript = simulate_call(server_url=url, auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID,
                               caller="+821012345678", hotline_number="+8222120120", standin_port=standin_port,
                               inputs=iter(["1", "say:주차 위반 과태료"]), say=heard.append, talk_seconds=0.1)
    assert transcript.connected, "\n".join(heard)
    assert transcript.agent_endpoint == "client:yoon.taeho"
    assert any("Welcome" in line or "다산콜센터" in line for line in transcript.heard)
    assert application.routing.agent("yoon.taeho").status == "wrapup"  # the citizen hung up after talking
    assert application.routing.call(transcript.call_sid).state == "ended"


def test_simulated_call_with_unanswered_agent_is_not_lost(live_server):
    url, standin_port, application = live_server
    application.routing.set_status("yoon.taeho", "available")
    transcript = simulate_call(server_url=url, auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID,
                               caller="+821012345678", hotline_number="+8222120120", standin_port=standin_port,
                               inputs=iter(["1", "2"]), say=lambda _: None, agent_answers=False,
                               max_wait_seconds=1.5, talk_seconds=0.1, time_scale=0.05)
    assert not transcript.connected
    assert application.routing.agent("yoon.taeho").status == "break"


def test_waiting_caller_hears_the_position_once_per_pause_not_in_a_loop(live_server):
    # nobody is available: each hold document says the position, then pauses 20 s
    # (routing.wait_announcement_seconds); the simulator spends that call time before the next
    url, standin_port, application = live_server
    waits, heard = [], []
    transcript = simulate_call(server_url=url, auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID,
                               caller="+821012345678", hotline_number="+8222120120", standin_port=standin_port,
                               inputs=iter(["1", "2"]), say=heard.append, max_wait_seconds=60,
                               time_scale=0.001, wait=lambda seconds: waits.append(seconds) or False)
    assert transcript.ended_by == "caller-gave-up"
    positions = [line for line in heard if "대기 순서" in line]
    assert len(positions) == 3, "\n".join(heard)  # 60 s of call time, one announcement per 20 s
    assert waits == [pytest.approx(0.02)] * 3


def test_onecall_call_with_no_server_says_so_and_exits_2(deployment_dir):
    import subprocess
    import sys

    down = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run([sys.executable, "-m", "onecall.cli", "call", "--server", down, "--press", "1,2",
                             "--twilio-port", str(free_port())],
                            cwd=deployment_dir, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot reach OneCall at {down}: is `onecall serve` running?" in result.stderr
    assert "Traceback" not in result.stderr
