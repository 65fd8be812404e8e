"""Accepting, rejecting and timing out reservations (fake clock: no sleeps)."""
from __future__ import annotations

import pytest

from routing import AgentStatus as S, CallRequest, NoSuchCall, ReservationExpired

from .conftest import profile


@pytest.fixture()
def reserved(store, clock):
    """kim reserved for c1; c2 and c3 arrived later and wait."""
    store.sync_agents([profile("kim"), profile("lee"), profile("park")])
    store.set_status("kim", S.AVAILABLE)
    assert store.enqueue(CallRequest("c1", "tax", "ko")).reservation.agent_id == "kim"
    clock.advance(1)
    store.enqueue(CallRequest("c2", "tax", "ko"))
    clock.advance(1)
    store.enqueue(CallRequest("c3", "tax", "ko"))
    return store


def test_accept(reserved, redis_client):
    rec = reserved.accept("c1", "kim")
    assert rec.state == "connected" and rec.agent_id == "kim"
    assert reserved.agent("kim").status == S.BUSY and reserved.agent("kim").call_id == "c1"
    assert redis_client.zscore(reserved.keys.reservations, "c1") is None
    assert reserved.accept("c1", "kim").state == "connected"  # retry is harmless


def test_accept_by_wrong_agent_or_unknown_call(reserved):
    with pytest.raises(ReservationExpired) as e:
        reserved.accept("c1", "lee")
    assert e.value.error_id == "reservation-expired" and e.value.http_status == 409
    with pytest.raises(ReservationExpired):
        reserved.accept("c2", "kim")  # waiting, not reserved
    with pytest.raises(NoSuchCall):
        reserved.accept("nope", "kim")
    assert reserved.agent("kim").status == S.RESERVED


def test_timeout_puts_call_back_at_head_and_agent_on_break(reserved, clock):
    clock.advance(17)  # fixture left the clock at t0 + 2; deadline is t0 + 20
    assert reserved.expire_reservations() == []  # not yet due
    assert reserved.call("c1").state == "reserved"
    clock.advance(2)
    assert reserved.expire_reservations() == []  # nobody else available
    assert reserved.call("c1").state == "waiting" and reserved.call("c1").agent_id is None
    assert reserved.queue_position("c1") == 1  # ahead of c2, c3 who arrived later
    assert [reserved.queue_position(c) for c in ("c2", "c3")] == [2, 3]
    kim = reserved.agent("kim")
    assert kim.status == S.BREAK and kim.reason == "missed" and kim.call_id is None
    with pytest.raises(ReservationExpired):
        reserved.accept("c1", "kim")  # too late
    # the next agent to come takes the original head caller
    assert reserved.set_status("lee", S.AVAILABLE).call_id == "c1"


def test_timeout_offers_call_to_next_available_agent(store, clock):
    store.sync_agents([profile("kim", {"tax": 5}), profile("lee", {"tax": 3})])
    store.set_status("kim", S.AVAILABLE)
    store.set_status("lee", S.AVAILABLE)
    assert store.enqueue(CallRequest("c1", "tax", "ko")).reservation.agent_id == "kim"
    clock.advance(1)
    assert store.enqueue(CallRequest("c2", "tax", "ko")).reservation.agent_id == "lee"
    clock.advance(1)
    store.enqueue(CallRequest("c3", "tax", "ko"))  # waits
    store.sync_agents([profile("kim", {"tax": 5}), profile("lee", {"tax": 3}), profile("park", {"tax": 1})])
    store.set_status("park", S.AVAILABLE)  # takes c3
    store.accept("c2", "lee")
    store.end_call("c2", "done")
    store.finish_wrapup("lee")  # lee available again, nothing waiting
    assert store.agent("lee").status == S.AVAILABLE
    clock.advance(25)
    made = store.expire_reservations()  # kim's c1 (due) and park's c3 (due) expire
    assert {(r.call_id, r.agent_id) for r in made} == {("c1", "lee")}
    assert store.agent("kim").status == S.BREAK and store.agent("park").status == S.BREAK
    assert store.call("c3").state == "waiting" and store.queue_position("c3") == 1
    assert store.expire_reservations() == []  # each reservation expires once


def test_reject_returns_call_to_head_and_offers_next_agent(reserved, clock):
    clock.advance(3)
    assert reserved.reject("c1", "kim") is None
    assert reserved.queue_position("c1") == 1 and reserved.agent("kim").status == S.BREAK
    assert reserved.agent("kim").reason == "missed"
    res = reserved.set_status("lee", S.AVAILABLE)
    assert res.call_id == "c1"
    # a rejection with an agent available hands the call over in the same step
    reserved.set_status("park", S.AVAILABLE)  # takes c2
    assert reserved.agent("park").call_id == "c2"
    reserved.set_status("kim", S.AVAILABLE)  # takes c3
    reserved.end_call("c3", "hangup")  # kim released, nothing waiting -> available
    nxt = reserved.reject("c1", "lee", reason="busy-here")
    assert nxt.call_id == "c1" and nxt.agent_id == "kim"
    ev = [f for _, f in reserved.events() if f["type"] == "call-rejected"]
    assert ev[-1]["reason"] == "busy-here" and ev[-1]["agent"] == "lee"


def test_stale_reject(reserved):
    reserved.accept("c1", "kim")
    with pytest.raises(ReservationExpired):
        reserved.reject("c1", "kim")
    with pytest.raises(ReservationExpired):
        reserved.reject("c2", "kim")
    assert reserved.agent("kim").status == S.BUSY and reserved.call("c1").state == "connected"


def test_events_record_the_lifecycle(reserved, clock):
    reserved.accept("c1", "kim")
    types = [f["type"] for _, f in reserved.events()]
    assert types.count("call-queued") == 3
    assert "call-reserved" in types and types[-1] == "call-accepted"
    last = reserved.events()[-1][1]
    assert last["call"] == "c1" and last["agent"] == "kim" and float(last["ts"]) == clock.now
    assert last["agent_status"] == "busy" and last["call_state"] == "connected"
