"""Several OS processes hammer one hotline at once; the invariants must hold in Redis.

Each process has its own Redis connection and does random enqueues, status flips,
accepts, rejects, hang-ups and expiries.  Afterwards the test checks, from Redis only:
no agent holds two calls, no call has two agents, reserved/connected calls and their
agents point at each other, every index/queue/deadline set agrees with the hashes, no
agent idles in an index while a caller it could take waits, and replaying the events
stream never shows an agent (or a call) reserved twice without a release in between —
and ends in exactly the states stored in the hashes.
"""
from __future__ import annotations

import multiprocessing as mp
import random
from collections import Counter

import redis

from routing import AgentProfile, CallRequest, RoutingError, RoutingStore

NAMESPACE = "conc"
PROCESSES = 4
OPS_PER_PROCESS = 2500
SKILLS = ("tax", "water", "parking")
LANGS = ("ko", "en")
AGENTS = [f"ag{i:02d}" for i in range(40)]


def _profiles() -> list[AgentProfile]:
    rnd = random.Random(42)
    out = []
    for aid in AGENTS:
        skills = {s: rnd.randint(1, 5) for s in rnd.sample(SKILLS, rnd.randint(1, 2))}
        langs = tuple(rnd.sample(LANGS, rnd.randint(1, 2)))
        out.append(AgentProfile(aid, aid, skills, langs, f"sip:{aid}"))
    return out


def _worker(url: str, seed: int, barrier, results) -> None:
    rnd = random.Random(seed)
    client = redis.Redis.from_url(url, decode_responses=True)
    store = RoutingStore(client, namespace=NAMESPACE, reservation_timeout=0.05, wrapup_seconds=0.02)
    counts: Counter[str] = Counter()
    mine: list[str] = []
    barrier.wait()
    for i in range(OPS_PER_PROCESS):
        op = rnd.random()
        try:
            if op < 0.35:
                cid = f"p{seed}-{i}"
                mine.append(cid)
                store.enqueue(CallRequest(cid, rnd.choice(SKILLS), rnd.choice(LANGS), priority=rnd.choice((0, 0, 0, 10))))
            elif op < 0.70:
                store.set_status(rnd.choice(AGENTS), rnd.choice(("available", "available", "break", "offline")))
            elif op < 0.82:
                aid = rnd.choice(AGENTS)
                cid = client.hget(store.keys.agent(aid), "call_id")
                if cid:
                    if rnd.random() < 0.8:
                        store.accept(cid, aid)
                    else:
                        store.reject(cid, aid)
            elif op < 0.94:
                if mine:
                    store.end_call(rnd.choice(mine), rnd.choice(("hangup", "completed")))
            elif op < 0.97:
                store.expire_reservations()
                store.expire_wrapups()
            else:
                store.finish_wrapup(rnd.choice(AGENTS))
            counts["ok"] += 1
        except RoutingError as exc:
            counts[exc.error_id] += 1
    client.close()
    results.put(dict(counts))


def test_many_processes_never_double_book(redis_url, redis_client):
    store = RoutingStore(redis_client, namespace=NAMESPACE)
    store.sync_agents(_profiles())
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(redis_url, seed, barrier, results)) for seed in range(PROCESSES)]
    for p in procs:
        p.start()
    counts: Counter[str] = Counter()
    for _ in procs:
        counts.update(results.get(timeout=120))
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert counts["ok"] > PROCESSES * OPS_PER_PROCESS // 2, counts

    r, k = redis_client, store.keys
    agents = {a.agent_id: a for a in store.agents()}
    calls = {}
    for cid in (f"p{seed}-{i}" for seed in range(PROCESSES) for i in range(OPS_PER_PROCESS)):
        h = r.hgetall(k.call(cid))
        if h:
            calls[cid] = h

    # 1. one agent never holds two calls; one call never has two agents; mutual pointers.
    active = {cid: h for cid, h in calls.items() if h["state"] in ("reserved", "connected")}
    per_agent = Counter(h["agent_id"] for h in active.values())
    assert not [a for a, n in per_agent.items() if n > 1], "an agent holds two calls"
    holders = Counter(a.call_id for a in agents.values() if a.call_id)
    assert not [c for c, n in holders.items() if n > 1], "a call has two agents"
    for cid, h in active.items():
        a = agents[h["agent_id"]]
        assert a.call_id == cid
        assert a.status == ("reserved" if h["state"] == "reserved" else "busy")
    for a in agents.values():
        if a.status in ("reserved", "busy"):
            assert a.call_id in active and active[a.call_id]["agent_id"] == a.agent_id
        else:
            assert a.call_id is None

    # 2. indexes, queues and deadline sets agree with the hashes.
    pairs = {(s, l) for a in agents.values() for s in a.skills for l in a.languages}
    for s, l in pairs:
        in_index = set(r.zrange(k.available(s, l), 0, -1))
        should = {a.agent_id for a in agents.values() if a.status == "available" and s in a.skills and l in a.languages}
        assert in_index == should
        queued = set(r.zrange(k.queue(s, l), 0, -1))
        assert queued == {c for c, h in calls.items() if h["state"] == "waiting" and (h["skill"], h["language"]) == (s, l)}
        assert not (in_index and queued), f"agent idle in {s}/{l} while a caller waits"
    assert set(r.zrange(k.reservations, 0, -1)) == {c for c, h in active.items() if h["state"] == "reserved"}
    assert set(r.zrange(k.wrapups, 0, -1)) == {a.agent_id for a in agents.values() if a.status == "wrapup"}

    # 3. the events stream: never reserved twice without a release, and it replays to the hashes.
    agent_state: dict[str, str] = {}
    call_state: dict[str, str] = {}
    reserved_events = 0
    for _, ev in store.events():
        aid, cid = ev.get("agent"), ev.get("call")
        if "agent_status" in ev:
            new = ev["agent_status"]
            assert not (new == "reserved" and agent_state.get(aid) == "reserved"), f"{aid} reserved twice: {ev}"
            agent_state[aid] = new
        if "call_state" in ev:
            new = ev["call_state"]
            assert not (new == "reserved" and call_state.get(cid) == "reserved"), f"{cid} reserved twice: {ev}"
            call_state[cid] = new
        reserved_events += ev["type"] == "call-reserved"
    assert reserved_events > 100, (reserved_events, counts, len(store.events()))
    assert agent_state == {aid: a.status for aid, a in agents.items()}
    assert call_state == {cid: h["state"] for cid, h in calls.items()}
