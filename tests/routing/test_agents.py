"""Agent configuration and the agent state machine."""
from __future__ import annotations

import pytest

from routing import (
    AgentProfile,
    AgentStatus as S,
    CallRequest,
    InvalidTransition,
    NoSuchAgent,
    RoutingError,
)

from .conftest import T0, profile


def test_error_ids_and_statuses():
    from routing import CallAlreadyQueued, NoSuchCall, ReservationExpired

    assert (NoSuchAgent.error_id, NoSuchAgent.http_status) == ("no-such-agent", 404)
    assert (NoSuchCall.error_id, NoSuchCall.http_status) == ("no-such-call", 404)
    assert (InvalidTransition.error_id, InvalidTransition.http_status) == ("invalid-agent-transition", 409)
    assert (ReservationExpired.error_id, ReservationExpired.http_status) == ("reservation-expired", 409)
    assert (CallAlreadyQueued.error_id, CallAlreadyQueued.http_status) == ("call-already-queued", 409)
    for cls in (NoSuchAgent, NoSuchCall, InvalidTransition, ReservationExpired, CallAlreadyQueued):
        assert issubclass(cls, RoutingError)


def test_profile_validates_proficiency():
    with pytest.raises(ValueError):
        AgentProfile("kim", "Kim", {"tax": 6}, ("ko",), "sip:kim")
    with pytest.raises(ValueError):
        AgentProfile("kim", "Kim", {"tax": 0}, ("ko",), "sip:kim")


def test_new_agents_start_offline_with_their_config(store):
    store.sync_agents([profile("kim", {"tax": 5, "water": 2}, ("ko", "en"))])
    a = store.agent("kim")
    assert a.status == S.OFFLINE and a.call_id is None and a.since == T0
    assert dict(a.skills) == {"tax": 5, "water": 2}
    assert a.languages == ("ko", "en") and a.endpoint == "sip:kim" and a.name == "Kim"
    assert [x.agent_id for x in store.agents()] == ["kim"]


def test_allowed_transitions(store, clock):
    store.sync_agents([profile("kim")])
    path = [S.AVAILABLE, S.BREAK, S.AVAILABLE, S.OFFLINE, S.BREAK, S.OFFLINE, S.AVAILABLE]
    for status in path:
        clock.advance(1)
        assert store.set_status("kim", status) is None
        a = store.agent("kim")
        assert a.status == status and a.since == clock.now


def test_same_status_is_a_noop(store, clock):
    store.sync_agents([profile("kim")])
    store.set_status("kim", S.BREAK)
    since = store.agent("kim").since
    clock.advance(5)
    assert store.set_status("kim", S.BREAK) is None
    assert store.agent("kim").since == since


def test_available_indexes_every_skill_language_pair_and_leaving_removes_them(store, redis_client):
    store.sync_agents([profile("kim", {"tax": 5, "water": 2}, ("ko", "en"))])
    store.set_status("kim", S.AVAILABLE)
    idx = [store.keys.available(s, l) for s in ("tax", "water") for l in ("ko", "en")]
    assert all(redis_client.zscore(k, "kim") is not None for k in idx)
    store.set_status("kim", S.BREAK)
    assert all(redis_client.zscore(k, "kim") is None for k in idx)


def test_unknown_agent(store):
    with pytest.raises(NoSuchAgent) as e:
        store.set_status("ghost", S.AVAILABLE)
    assert e.value.error_id == "no-such-agent" and e.value.http_status == 404
    with pytest.raises(NoSuchAgent):
        store.agent("ghost")


@pytest.mark.parametrize("target", [S.AVAILABLE, S.BREAK, S.OFFLINE, S.WRAPUP, S.BUSY])
def test_reserved_agent_cannot_change_status(store, target):
    store.sync_agents([profile("kim")])
    store.set_status("kim", S.AVAILABLE)
    assert store.enqueue(CallRequest("c1", "tax", "ko")).reservation is not None
    with pytest.raises(InvalidTransition) as e:
        store.set_status("kim", target)
    assert e.value.error_id == "invalid-agent-transition" and e.value.http_status == 409
    assert "reserved" in str(e.value) and target in str(e.value)
    assert store.agent("kim").status == S.RESERVED and store.agent("kim").call_id == "c1"


def test_busy_agent_cannot_change_status(store):
    store.sync_agents([profile("kim")])
    store.set_status("kim", S.AVAILABLE)
    store.enqueue(CallRequest("c1", "tax", "ko"))
    store.accept("c1", "kim")
    with pytest.raises(InvalidTransition, match="busy"):
        store.set_status("kim", S.OFFLINE)
    assert store.agent("kim").status == S.BUSY


@pytest.mark.parametrize("target", [S.WRAPUP, S.RESERVED, S.BUSY, "dancing"])
def test_states_not_reachable_by_set_status(store, target):
    store.sync_agents([profile("kim")])
    with pytest.raises(InvalidTransition):
        store.set_status("kim", target)
    assert store.agent("kim").status == S.OFFLINE


def test_sync_keeps_live_state_and_removes_absent_offline_agents(store):
    store.sync_agents([profile("kim"), profile("lee"), profile("park")])
    store.set_status("kim", S.AVAILABLE)
    store.set_status("lee", S.BREAK)
    store.sync_agents([profile("kim", {"tax": 2})])
    ids = {a.agent_id for a in store.agents()}
    assert ids == {"kim", "lee"}  # park was offline -> removed; lee on break -> kept
    assert store.agent("kim").status == S.AVAILABLE and dict(store.agent("kim").skills) == {"tax": 2}
    with pytest.raises(NoSuchAgent):
        store.agent("park")


def test_sync_rebuilds_index_of_available_agent_and_matches_new_queue(store, redis_client, clock):
    store.sync_agents([profile("kim", {"tax": 3})])
    store.set_status("kim", S.AVAILABLE)
    since = store.agent("kim").since
    store.enqueue(CallRequest("w1", "water", "ko"))  # nobody can take it yet
    clock.advance(10)
    made = store.sync_agents([profile("kim", {"water": 4})])
    assert redis_client.zscore(store.keys.available("tax", "ko"), "kim") is None
    assert [r.call_id for r in made] == ["w1"]
    assert store.agent("kim").status == S.RESERVED
    # without a waiting call the rebuilt entry keeps the agent's idle time
    store.sync_agents([profile("lee", {"tax": 3}), profile("kim", {"water": 4})])
    store.set_status("lee", S.AVAILABLE)
    since = store.agent("lee").since
    clock.advance(10)
    store.sync_agents([profile("lee", {"parking": 5}), profile("kim", {"water": 4})])
    from routing import policy

    assert redis_client.zscore(store.keys.available("parking", "ko"), "lee") == policy.agent_score(5, since)
    assert redis_client.zscore(store.keys.available("tax", "ko"), "lee") is None


def test_language_for_falls_back_to_default(store):
    store.sync_agents([profile("kim", {"tax": 3}, ("ko", "en")), profile("lee", {"water": 3}, ("ko",))])
    assert store.language_for("tax", "en", "ko") == "en"
    assert store.language_for("water", "en", "ko") == "ko"
    r = store.enqueue(CallRequest("c1", "water", "en"), fallback_language="ko")
    assert store.call("c1").language == "ko" and r.position == 1


def test_works_without_decode_responses(redis_url, redis_client, clock):
    import redis

    from routing import RoutingStore

    raw = redis.Redis.from_url(redis_url)  # bytes replies
    try:
        s = RoutingStore(raw, namespace="t", clock=clock)
        s.sync_agents([profile("kim")])
        s.enqueue(CallRequest("c1", "tax", "ko", citizen_id="900101"))
        res = s.set_status("kim", S.AVAILABLE)
        assert res.call_id == "c1" and res.citizen_id == "900101" and res.endpoint == "sip:kim"
        assert s.accept("c1", "kim").state == "connected"
        assert s.agent("kim").status == S.BUSY
    finally:
        raw.close()
