"""EXTEND_WRAPUP: an agent in wrap-up gets more time; the timer then honours the new deadline."""
from __future__ import annotations

import pytest

from routing import InvalidTransition
from routing.store import MAX_WRAPUP_SECONDS
from tests.routing.test_end_call import _in_wrapup


def test_extending_moves_the_deadline_and_the_timer_waits_for_it(store, clock):
    _in_wrapup(store)
    started = clock.now
    assert store.wrapup_deadline("kim") == started + 30
    assert store.extend_wrapup("kim", 60) == pytest.approx(started + 90)
    clock.advance(31)
    store.expire_wrapups()
    assert store.agent("kim").status == "wrapup"
    clock.advance(60)
    store.expire_wrapups()
    assert store.agent("kim").status == "available" and store.wrapup_deadline("kim") is None


def test_a_deadline_already_passed_extends_from_now_and_never_past_the_cap(store, clock):
    _in_wrapup(store)
    clock.advance(40)  # the timer has not swept yet
    assert store.extend_wrapup("kim", 60) == pytest.approx(clock.now + 60)
    assert store.extend_wrapup("kim", 10 * MAX_WRAPUP_SECONDS) == pytest.approx(clock.now + MAX_WRAPUP_SECONDS)


def test_only_an_agent_in_wrapup_can_extend(store, clock):
    _in_wrapup(store)
    store.finish_wrapup("kim")
    with pytest.raises(InvalidTransition):
        store.extend_wrapup("kim", 60)
