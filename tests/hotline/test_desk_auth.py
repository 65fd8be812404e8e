"""The desk login throttle and sessions against a real Redis, with a clock the test holds."""
from __future__ import annotations

import pytest
import yaml

from hotline.config import LoginRule, load_config
from hotline.desk_auth import DeskSessions, LoginThrottle
from hotline.errors import ConfigInvalid, LoginLocked
from routing.keys import Keys


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _throttle(redis_client, clock, agent_limit=2, address_limit=5):
    return LoginThrottle(redis_client, Keys("test"), clock=clock,
                         per_agent=LoginRule(max_failures=agent_limit, window_seconds=60, lockout_seconds=30),
                         per_address=LoginRule(max_failures=address_limit, window_seconds=60, lockout_seconds=30))


def _fail(throttle, agent_id, address="10.0.0.1") -> float | None:
    """One wrong PIN; the time it locked a subject until, or None."""
    throttle.begin(agent_id, address)
    try:
        throttle.failed(agent_id, address)
    except LoginLocked as locked:
        return locked.locked_until
    return None


def test_a_lockout_ends_after_its_time_and_the_count_starts_afresh(redis_client):
    clock = Clock()
    throttle = _throttle(redis_client, clock)
    assert _fail(throttle, "kim.minji") is None
    assert _fail(throttle, "kim.minji") == clock.now + 30
    with pytest.raises(LoginLocked) as locked:
        throttle.begin("kim.minji", "10.0.0.2")
    assert locked.value.retry_after == 30
    clock.now += 31
    throttle.begin("kim.minji", "10.0.0.1")  # granted: a fresh count of one
    assert throttle.agent_logins(["kim.minji"]) == {"kim.minji": {"failures": 1, "locked_until": None}}


def test_a_right_pin_clears_the_agent_but_gives_the_address_only_its_own_attempt_back(redis_client):
    clock = Clock()
    throttle = _throttle(redis_client, clock, agent_limit=3, address_limit=5)
    for agent_id in ("a.one", "a.one", "a.two", "a.two"):
        _fail(throttle, agent_id)
    throttle.begin("kim.minji", "10.0.0.1")
    throttle.succeeded("kim.minji", "10.0.0.1")  # the address still counts its four failures
    assert _fail(throttle, "a.three") == clock.now + 30
    assert [(lock["kind"], lock["id"], lock["failures"]) for lock in throttle.lockouts()] == [("address", "10.0.0.1", 5)]


def test_an_id_no_agent_can_have_is_counted_by_its_address_only(redis_client):
    throttle = _throttle(redis_client, Clock())
    for _ in range(3):
        _fail(throttle, "Robert'); DROP TABLE--", address="10.0.0.9")
    assert [lock["kind"] for lock in throttle.lockouts()] == []
    assert redis_client.keys("*login:agent:*") == []


def test_a_desk_session_lives_its_lifetime_and_ends_when_revoked(redis_client):
    sessions = DeskSessions(redis_client, Keys("test"), lifetime_seconds=3600)
    session_id = sessions.open("kim.minji")
    assert len(session_id) >= 40 and sessions.agent_of(session_id) == "kim.minji"
    assert 3590 <= redis_client.ttl(Keys("test").desk_session(session_id)) <= 3600
    sessions.revoke(session_id)
    assert sessions.agent_of(session_id) is None and sessions.agent_of(None) is None


@pytest.mark.parametrize("desk, field, reason", [
    ({"per_agent": {"max_failures": 0}}, "desk.per_agent.max_failures", "greater than or equal to 1"),
    ({"per_address": {"max_failures": 20, "lockout_minutes": 5}}, "desk.per_address.lockout_minutes",
     "not a known setting"),
    ({"session_hours": 0}, "desk.session_hours", "greater than 0"),
])
def test_bad_desk_login_settings_name_the_field(deployment_dir, desk, field, reason):
    path = deployment_dir / "config.yaml"
    data = yaml.safe_load(path.read_text())
    data["desk"] = desk
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigInvalid) as refused:
        load_config(path)
    problems = dict(refused.value.problems)
    assert reason in problems[field]
