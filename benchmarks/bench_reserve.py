"""Benchmark: the reserve step (agent goes available and takes a waiting call) vs PING.

    python benchmarks/bench_reserve.py [--redis-url URL] [--iterations N]

Redis: --redis-url, else REDIS_URL, else 127.0.0.1:6379 db 14 (flushed!), else a private
embedded redis-server.  Setup: 10,000 agents (6 skills, 2 languages, random
proficiencies) and 1,000 waiting calls.  Each timed iteration is one
``set_status(agent, "available")`` that reserves a waiting call (one EVALSHA round trip);
untimed, a new call is enqueued so 1,000 keep waiting.  PING round trips are measured in
the same run, interleaved one PING / one reserve on the same connection, the order of the
two swapped every iteration so neither always runs right after the untimed work.  Every
script is loaded and the connection open before timing.  Prints p50/p99 of both, the
ratio reserve_p50 / ping_p50 (target <= 1.3) and the median of the per-iteration
differences reserve - PING (robust against the machine's load drifting during the run).

--floor adds a third interleaved sample: EVALSHA of ``return 1`` with the same number of
keys and arguments as the reserve call, i.e. the cheapest any one-script reserve could be.
"""
from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402

from onecall.redis_server import EmbeddedRedis, find_or_start_redis  # noqa: E402
from routing import AgentProfile, CallRequest, NoSuchAgent, RoutingStore  # noqa: E402

LOCAL = "redis://127.0.0.1:6379/14"
SKILLS = ["tax", "water", "parking", "welfare", "transport", "housing"]
LANGS = ["ko", "en"]


def pick_url(arg: str | None) -> tuple[str, EmbeddedRedis | None]:
    return (arg, None) if arg else find_or_start_redis(LOCAL)


def pct(samples: list[int], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000.0  # ns -> us


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redis-url")
    ap.add_argument("--iterations", type=int, default=5000)
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--waiting", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--floor", action="store_true", help="also time EVALSHA 'return 1' (same arity)")
    opts = ap.parse_args()
    if opts.iterations > opts.agents:
        ap.error("--iterations must not exceed --agents (each iteration uses a fresh offline agent)")

    url, server = pick_url(opts.redis_url)
    rnd = random.Random(opts.seed)
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    store = RoutingStore(client, namespace="bench", reservation_timeout=3600)
    try:
        profiles = []
        for i in range(opts.agents):
            skills = {s: rnd.randint(1, 5) for s in rnd.sample(SKILLS, rnd.randint(1, 3))}
            langs = tuple(rnd.sample(LANGS, rnd.randint(1, 2)))
            profiles.append(AgentProfile(f"a{i:05d}", f"Agent {i}", skills, langs, f"sip:a{i:05d}"))
        t0 = time.perf_counter()
        store.sync_agents(profiles)
        seq = 0

        def add_call() -> None:
            nonlocal seq
            seq += 1
            res = store.enqueue(CallRequest(f"c{seq}", rnd.choice(SKILLS), rnd.choice(LANGS), priority=rnd.choice([0, 0, 0, 10])))
            assert res.reservation is None, "setup bug: an agent was available"

        for _ in range(opts.waiting):
            add_call()
        print(f"setup: {opts.agents} agents, {opts.waiting} waiting calls in {time.perf_counter() - t0:.1f}s ({url})")

        try:  # loads the set_status script (NOSCRIPT -> SCRIPT LOAD) outside the timing
            store.set_status("bench-warmup-nobody", "available")
        except NoSuchAgent:
            pass
        for _ in range(200):  # warm up: connection open, caches hot
            client.ping()
        floor_sha = client.script_load("return 1")
        floor_args = (floor_sha, 2, store.keys.events, store.keys.agent(profiles[0].agent_id),
                      "1795483294.123456", "1795486894.123456", profiles[0].agent_id, "available", "", "")
        gc.collect()
        gc.freeze()  # the 10,000 setup objects are not rescanned by collections during timing
        reserve_ns: list[int] = []
        ping_ns: list[int] = []
        floor_ns: list[int] = []
        misses = 0
        clock = time.perf_counter_ns
        for i in range(opts.iterations):
            agent = profiles[i]
            if i % 2:
                t = clock()
                res = store.set_status(agent.agent_id, "available")
                reserve_ns.append(clock() - t)
                t = clock()
                client.ping()
                ping_ns.append(clock() - t)
            else:
                t = clock()
                client.ping()
                ping_ns.append(clock() - t)
                t = clock()
                res = store.set_status(agent.agent_id, "available")
                reserve_ns.append(clock() - t)
            if opts.floor:
                t = clock()
                client.execute_command("EVALSHA", *floor_args)
                floor_ns.append(clock() - t)
            if res is None:  # no waiting call for this agent's queues: take it out again
                misses += 1
                store.set_status(agent.agent_id, "offline")
            else:
                add_call()  # keep 1,000 waiting
        waiting = sum(client.zcard(store.keys.queue_of_suffix(q)) for q in client.smembers(store.keys.queues))
        r50, r99, p50, p99 = pct(reserve_ns, .5), pct(reserve_ns, .99), pct(ping_ns, .5), pct(ping_ns, .99)
        print(f"iterations: {opts.iterations} (reserved {opts.iterations - misses}, no match {misses}); waiting at end: {waiting}")
        print(f"reserve  p50 {r50:8.1f} us   p99 {r99:8.1f} us   mean {statistics.mean(reserve_ns) / 1000:8.1f} us")
        print(f"ping     p50 {p50:8.1f} us   p99 {p99:8.1f} us   mean {statistics.mean(ping_ns) / 1000:8.1f} us")
        if floor_ns:
            f50, f99 = pct(floor_ns, .5), pct(floor_ns, .99)
            print(f"floor    p50 {f50:8.1f} us   p99 {f99:8.1f} us   (EVALSHA 'return 1', ratio {f50 / p50:.2f})")
        diff = statistics.median(r - p for r, p in zip(reserve_ns, ping_ns)) / 1000.0
        print(f"median per-iteration reserve - ping = {diff:.1f} us")
        print(f"ratio reserve_p50 / ping_p50 = {r50 / p50:.2f} (target <= 1.3)")
    finally:
        client.flushdb()
        client.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
