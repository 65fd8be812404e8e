"""Who gets which call: proficiency, idle time, language, priority, FIFO, positions."""
from __future__ import annotations

import pytest

from routing import AgentStatus as S, CallAlreadyQueued, CallRequest

from .conftest import profile


def test_best_proficiency_wins_over_longer_idle(store, clock):
    store.sync_agents([profile("novice", {"tax": 2}), profile("expert", {"tax": 5})])
    store.set_status("novice", S.AVAILABLE)  # idle longer
    clock.advance(30)
    store.set_status("expert", S.AVAILABLE)
    r = store.enqueue(CallRequest("c1", "tax", "ko"))
    assert r.reservation.agent_id == "expert" and r.position is None


def test_longest_idle_among_equal_proficiency(store, clock):
    store.sync_agents([profile(a, {"tax": 4}) for a in ("a", "b", "c")])
    for aid in ("b", "c", "a"):
        store.set_status(aid, S.AVAILABLE)
        clock.advance(1)
    got = [store.enqueue(CallRequest(f"c{i}", "tax", "ko")).reservation.agent_id for i in range(3)]
    assert got == ["b", "c", "a"]


def test_language_index_is_respected(store):
    store.sync_agents([profile("ko_only", {"tax": 5}, ("ko",)), profile("bilingual", {"tax": 1}, ("ko", "en"))])
    store.set_status("ko_only", S.AVAILABLE)
    store.set_status("bilingual", S.AVAILABLE)
    r = store.enqueue(CallRequest("c1", "tax", "en"))
    assert r.reservation.agent_id == "bilingual" and r.reservation.language == "en"
    r = store.enqueue(CallRequest("c2", "tax", "en"))
    assert r.reservation is None and r.position == 1  # ko_only cannot take an English call


def test_skill_index_is_respected(store):
    store.sync_agents([profile("kim", {"water": 5})])
    store.set_status("kim", S.AVAILABLE)
    r = store.enqueue(CallRequest("c1", "tax", "ko"))
    assert r.reservation is None and store.agent("kim").status == S.AVAILABLE


def test_positions_when_no_agent_then_head_reserved(store, clock):
    store.sync_agents([profile("kim")])
    positions = []
    for i in range(1, 4):
        clock.advance(1)
        positions.append(store.enqueue(CallRequest(f"c{i}", "tax", "ko")).position)
    assert positions == [1, 2, 3]
    assert [store.queue_position(f"c{i}") for i in (1, 2, 3)] == [1, 2, 3]
    res = store.set_status("kim", S.AVAILABLE)
    assert res.call_id == "c1" and res.agent_id == "kim" and res.deadline == clock.now + 20
    assert store.call("c1").state == "reserved" and store.call("c1").agent_id == "kim"
    assert store.queue_position("c1") is None
    assert [store.queue_position(f"c{i}") for i in (2, 3)] == [1, 2]
    assert store.agent("kim").status == S.RESERVED and store.agent("kim").call_id == "c1"
    assert [w.call_id for w in store.waiting_calls()] == ["c2", "c3"]


def test_higher_priority_served_first(store, clock):
    store.sync_agents([profile("kim")])
    store.enqueue(CallRequest("normal", "tax", "ko"))
    clock.advance(60)
    r = store.enqueue(CallRequest("vulnerable", "tax", "ko", priority=10))
    assert r.position == 1 and store.queue_position("normal") == 2
    assert store.set_status("kim", S.AVAILABLE).call_id == "vulnerable"


def test_fifo_among_equal_priority(store, clock):
    store.sync_agents([profile("kim")])
    for cid in ("x", "a", "m"):  # ids deliberately not in alphabetical order
        store.enqueue(CallRequest(cid, "tax", "ko", priority=3))
        clock.advance(0.5)
    served = []
    for _ in range(3):
        res = store.set_status("kim", S.AVAILABLE)
        served.append(res.call_id)
        store.accept(res.call_id, "kim")
        store.end_call(res.call_id, "done")
        store.set_status("kim", S.OFFLINE)
    assert served == ["x", "a", "m"]


def test_agent_with_several_queues_takes_best_head_across_them(store, clock):
    store.sync_agents([profile("kim", {"tax": 1, "water": 5}, ("ko", "en"))])
    store.enqueue(CallRequest("water-old", "water", "ko"))
    clock.advance(1)
    store.enqueue(CallRequest("tax-en-old", "tax", "en"))
    clock.advance(1)
    store.enqueue(CallRequest("tax-urgent", "tax", "ko", priority=10))
    assert store.set_status("kim", S.AVAILABLE).call_id == "tax-urgent"
    store.end_call("tax-urgent", "hangup")  # reserved -> agent released and re-matched
    assert store.agent("kim").call_id == "water-old"


def test_waiting_calls_ordered_across_queues(store, clock):
    store.enqueue(CallRequest("a", "tax", "ko"))
    clock.advance(1)
    store.enqueue(CallRequest("b", "water", "en", priority=5, citizen_id="p1", caller="+8210"))
    clock.advance(1)
    store.enqueue(CallRequest("c", "tax", "ko"))
    got = store.waiting_calls()
    assert [(w.call_id, w.position) for w in got] == [("b", 1), ("a", 1), ("c", 2)]
    assert got[0].citizen_id == "p1" and got[0].caller == "+8210" and got[0].priority == 5


def test_same_call_twice(store):
    store.enqueue(CallRequest("c1", "tax", "ko"))
    with pytest.raises(CallAlreadyQueued) as e:
        store.enqueue(CallRequest("c1", "tax", "ko"))
    assert e.value.error_id == "call-already-queued"
    assert [w.call_id for w in store.waiting_calls()] == ["c1"]


def test_one_agent_never_gets_two_calls(store):
    store.sync_agents([profile("kim")])
    store.set_status("kim", S.AVAILABLE)
    first = store.enqueue(CallRequest("c1", "tax", "ko"))
    second = store.enqueue(CallRequest("c2", "tax", "ko"))
    assert first.reservation.agent_id == "kim"
    assert second.reservation is None and second.position == 1


def test_reservation_carries_call_data(store):
    store.sync_agents([profile("kim")])
    store.set_status("kim", S.AVAILABLE)
    r = store.enqueue(CallRequest("c1", "tax", "ko", citizen_id="880101", caller="+82101234", data={"ivr": "tax/1"}))
    res = r.reservation
    assert (res.citizen_id, res.caller, res.endpoint, res.skill) == ("880101", "+82101234", "sip:kim", "tax")
    assert dict(store.call("c1").data) == {"ivr": "tax/1"}
