"""The benchmarks still run: each one at a tiny size, against the test Redis.

Only that they finish, check what they check before timing, and print their ratio is
asserted; how fast anything was is never a test (the README holds the numbers).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(name: str, *args: str, redis_url: str, timeout: float = 120) -> str:
    env = dict(os.environ, REDIS_URL=redis_url)
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_reserve_benchmark_keeps_the_queue_full_and_reports_all_three_ratios(redis_url):
    out = run_benchmark("bench_reserve.py", "--redis-url", redis_url, "--iterations", "40", "--agents", "100",
                        "--waiting", "20", "--floor", "--essential", redis_url=redis_url)
    assert "waiting at end: 20" in out  # every reserve was followed by a new call, as in the real load
    assert "ratio reserve_p50 / ping_p50 =" in out
    assert "(EVALSHA 'return 1', ratio" in out and "(fewest-commands reserve, ratio" in out


def test_reserve_benchmark_refuses_too_few_agents_for_the_lower_bound(redis_url):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_reserve.py"), "--redis-url", redis_url,
                           "--iterations", "60", "--agents", "100", "--essential"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not enough agents" in done.stderr


def test_webhook_benchmark_checks_a_real_turn_then_compares_with_bare_flask(redis_url):
    out = run_benchmark("bench_webhook.py", "--seconds", "0.5", "--rounds", "1", "--concurrency", "2",
                        "--threads", "2", "--warmup", "0.2", redis_url=redis_url)
    assert "sample real turn: 200 text/xml" in out
    assert "ratio real/bare =" in out


def test_ami_ingest_benchmark_replays_the_captures(redis_url):
    out = run_benchmark("bench_ami_ingest.py", "--events", "2000", "--rounds", "1", "--redis-url", redis_url,
                        redis_url=redis_url)
    assert "ratio OneCall / panoramisk:" in out


def test_agi_originate_benchmark_rings_for_every_call(redis_url):
    out = run_benchmark("bench_agi_originate.py", "--in-progress", "20", "--calls", "10", "--redis-url", redis_url,
                        redis_url=redis_url)
    assert "AGI intent -> Originate read by Asterisk: p50" in out
