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

--floor adds an interleaved sample: EVALSHA of ``return 1`` with the same number of
keys and arguments as the reserve call, i.e. what calling any script costs.

--essential adds another: `ESSENTIAL_RESERVE` below, the fewest commands any one-script
reserve can make (read the agent, read the head of each of its queues, take the call out,
mark agent and call, index the deadline), with no event and no read of the call's data.
It reserves a call for a second fresh agent, so it needs --agents >= 2 x --iterations.
It is a lower bound for the data model, not a product path: its ratio is the best a
single-script reserve can reach on this machine.
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


from onecall.redis_clients import client_for_url  # noqa: E402
from onecall.redis_server import EmbeddedRedis, find_or_start_redis  # noqa: E402
from routing import AgentProfile, CallRequest, NoSuchAgent, RoutingStore  # noqa: E402

LOCAL = "redis://127.0.0.1:6379/14"
SKILLS = ["tax", "water", "parking", "welfare", "transport", "housing"]
LANGS = ["ko", "en"]


# The lower bound measured by --essential (see the module docstring); same KEYS and ARGV
# layout as routing.scripts.SET_STATUS, reply shaped like a reservation array.
ESSENTIAL_RESERVE = r"""
local akey = KEYS[2]
local a = redis.call('HMGET', akey, 'status', 'pairs', 'endpoint')
if not a[1] then return redis.error_reply('no-such-agent ' .. ARGV[3]) end
local P, s, find, sub = string.sub(KEYS[1], 1, -7), a[2], string.find, string.sub
local best, best_q, best_score, pos = nil, nil, nil, 1
while true do
  local sp = find(s, ' ', pos, true)
  if not sp then break end
  local nl = find(s, '\n', sp, true)
  local q = P .. 'queue:' .. sub(s, sp + 1, nl - 1)
  local head = redis.call('ZRANGE', q, '0', '0', 'WITHSCORES')
  if head[1] then
    local score = tonumber(head[2])
    if not best_score or score < best_score then best, best_q, best_score = head[1], q, score end
  end
  pos = nl + 1
end
if not best then return false end
local aid, now, deadline = ARGV[3], ARGV[1], ARGV[2]
redis.call('ZREM', best_q, best)
redis.call('HSET', akey, 'status', 'reserved', 'call_id', best, 'since', now, 'reason', '')
redis.call('HSET', P .. 'call:' .. best, 'state', 'reserved', 'agent_id', aid, 'deadline', deadline)
redis.call('ZADD', P .. 'reservations', deadline, best)
return {best, aid, '', '', '', '', a[3] or '', deadline}
"""


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
    ap.add_argument("--essential", action="store_true", help="also time the fewest-commands reserve (lower bound)")
    opts = ap.parse_args()
    agents_per_iteration = 2 if opts.essential else 1
    if opts.iterations * agents_per_iteration > opts.agents:
        ap.error("not enough agents: each iteration uses a fresh offline agent (two with --essential)")

    url, server = pick_url(opts.redis_url)
    rnd = random.Random(opts.seed)
    client = client_for_url(url)
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
        essential_sha = client.script_load(ESSENTIAL_RESERVE)
        gc.collect()
        gc.freeze()  # the 10,000 setup objects are not rescanned by collections during timing
        reserve_ns: list[int] = []
        ping_ns: list[int] = []
        floor_ns: list[int] = []
        essential_ns: list[int] = []
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
            if opts.essential:
                spare = profiles[opts.iterations + i].agent_id
                t = clock()
                now = time.time()
                got = client.execute_command("EVALSHA", essential_sha, 2, store.keys.events, store.keys.agent(spare),
                                             repr(now), repr(now + store.reservation_timeout), spare, "available", "", "")
                essential_ns.append(clock() - t)
                if got:
                    add_call()
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
        if essential_ns:
            e50, e99 = pct(essential_ns, .5), pct(essential_ns, .99)
            print(f"essential p50 {e50:7.1f} us   p99 {e99:8.1f} us   (fewest-commands reserve, ratio {e50 / p50:.2f})")
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
