"""Routing failures, one class each, with a stable machine id and an HTTP status.

The web layer turns any `RoutingError` into ``{"error": e.error_id, "message": str(e)}``
with ``e.http_status``; callers in the engine catch the specific class they expect
(a stale ``accept`` is a `ReservationExpired`, not a crash).
"""
from __future__ import annotations

from typing import Any


class RoutingError(Exception):
    """Base class of every failure the routing store reports."""

    error_id: str = "routing-error"
    http_status: int = 500

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.error_id)
        self.details: dict[str, Any] = details


class NoSuchAgent(RoutingError):
    error_id = "no-such-agent"
    http_status = 404


class NoSuchCall(RoutingError):
    error_id = "no-such-call"
    http_status = 404


class InvalidTransition(RoutingError):
    """An agent state change the state machine does not allow (message names from and to)."""

    error_id = "invalid-agent-transition"
    http_status = 409


class ReservationExpired(RoutingError):
    """The call is not (or no longer) reserved for this agent."""

    error_id = "reservation-expired"
    http_status = 409


class CallAlreadyQueued(RoutingError):
    error_id = "call-already-queued"
    http_status = 409


ERRORS_BY_ID: dict[str, type[RoutingError]] = {
    cls.error_id: cls
    for cls in (NoSuchAgent, NoSuchCall, InvalidTransition, ReservationExpired, CallAlreadyQueued)
}
