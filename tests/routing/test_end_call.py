"""Ending calls in every state, and wrap-up."""
from __future__ import annotations

import pytest

from routing import AgentStatus as S, CallRequest, InvalidTransition, NoSuchCall

from .conftest import profile


def test_end_waiting_call_abandons_it(store):
    store.enqueue(CallRequest("c1", "tax", "ko"))
    store.enqueue(CallRequest("c2", "tax", "ko"))
    assert store.end_call("c1", "abandoned") is None
    assert store.call("c1").state == "ended"
    assert store.queue_position("c2") == 1 and [w.call_id for w in store.waiting_calls()] == ["c2"]


def test_end_reserved_call_releases_agent_and_rematches(store):
    store.sync_agents([profile("kim")])
    store.set_status("kim", S.AVAILABLE)
    store.enqueue(CallRequest("c1", "tax", "ko"))
    store.enqueue(CallRequest("c2", "tax", "ko"))
    res = store.end_call("c1", "hangup")
    assert res.call_id == "c2" and res.agent_id == "kim"
    assert store.call("c1").state == "ended"
    assert store.agent("kim").status == S.RESERVED and store.agent("kim").call_id == "c2"
    assert store.end_call("c2", "hangup") is None  # nothing left: kim just becomes available
    assert store.agent("kim").status == S.AVAILABLE and store.agent("kim").call_id is None


def test_end_connected_call_puts_agent_in_wrapup(store, clock, redis_client):
    store.sync_agents([profile("kim")])
    store.set_status("kim", S.AVAILABLE)
    store.enqueue(CallRequest("c1", "tax", "ko"))
    store.accept("c1", "kim")
    store.enqueue(CallRequest("c2", "tax", "ko"))  # waits while kim talks
    assert store.end_call("c1", "completed") is None
    kim = store.agent("kim")
    assert kim.status == S.WRAPUP and kim.call_id is None
    assert redis_client.zscore(store.keys.wrapups, "kim") == clock.now + 30
    assert store.call("c1").state == "ended" and store.call("c1").agent_id == "kim"
    assert store.call("c2").state == "waiting"


def test_end_call_is_idempotent_and_unknown_call_fails(store):
    store.enqueue(CallRequest("c1", "tax", "ko"))
    store.end_call("c1", "abandoned")
    n = len(store.events())
    assert store.end_call("c1", "abandoned") is None
    assert len(store.events()) == n
    with pytest.raises(NoSuchCall) as e:
        store.end_call("nope", "hangup")
    assert e.value.error_id == "no-such-call" and e.value.http_status == 404


def _in_wrapup(store):
    store.sync_agents([profile("kim"), profile("lee")])
    store.set_status("kim", S.AVAILABLE)
    store.enqueue(CallRequest("c1", "tax", "ko"))
    store.accept("c1", "kim")
    store.end_call("c1", "completed")


def test_wrapup_expiry_returns_agent_to_available_and_matches(store, clock):
    _in_wrapup(store)
    store.enqueue(CallRequest("c2", "tax", "ko"))
    clock.advance(29)
    assert store.expire_wrapups() == []
    assert store.agent("kim").status == S.WRAPUP
    clock.advance(2)
    made = store.expire_wrapups()
    assert [(r.call_id, r.agent_id) for r in made] == [("c2", "kim")]
    assert store.expire_wrapups() == []


def test_wrapup_expiry_without_waiting_calls(store, clock):
    _in_wrapup(store)
    clock.advance(31)
    assert store.expire_wrapups() == []
    assert store.agent("kim").status == S.AVAILABLE
    assert store.enqueue(CallRequest("c2", "tax", "ko")).reservation.agent_id == "kim"


def test_finish_wrapup_early(store, clock):
    _in_wrapup(store)
    store.enqueue(CallRequest("c2", "tax", "ko"))
    clock.advance(5)
    assert store.finish_wrapup("kim").call_id == "c2"
    clock.advance(60)
    assert store.expire_wrapups() == []  # the stale deadline does not touch kim again
    assert store.agent("kim").status == S.RESERVED
    with pytest.raises(InvalidTransition):
        store.finish_wrapup("lee")  # offline, not in wrap-up


def test_wrapup_to_break_or_offline_clears_deadline(store, clock, redis_client):
    _in_wrapup(store)
    store.set_status("kim", S.BREAK)
    assert redis_client.zscore(store.keys.wrapups, "kim") is None
    clock.advance(60)
    store.expire_wrapups()
    assert store.agent("kim").status == S.BREAK
