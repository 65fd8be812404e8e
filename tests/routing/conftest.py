"""Fixtures for the routing tests: a RoutingStore on the real Redis with a fake clock."""
from __future__ import annotations

import pytest

from routing import AgentProfile, RoutingStore

T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def store(redis_client, clock) -> RoutingStore:
    return RoutingStore(redis_client, namespace="t", reservation_timeout=20.0, wrapup_seconds=30.0, clock=clock)


def profile(agent_id: str, skills: dict[str, int] | None = None, languages=("ko",)) -> AgentProfile:
    return AgentProfile(agent_id, agent_id.title(), skills or {"tax": 3}, tuple(languages), f"sip:{agent_id}")
