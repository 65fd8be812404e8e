"""The one error base of OneCall, and the routing store's failures.

Every failure OneCall reports is a `OneCallError` subclass with a stable machine id
(`error_id`, never changed once published: clients and dashboards match on it), the HTTP
status the web tier answers with, a message and details. The web tier turns any of them
into ``{"error": error_id, "message": ..., "details": {...}}`` in one handler. Callers in
the engine catch the specific class they expect (a stale ``accept`` is a
`ReservationExpired`, not a crash).
"""
from __future__ import annotations

from typing import Any


class OneCallError(Exception):
    """Base of every error OneCall reports, in any layer."""

    error_id: str = "onecall-error"
    http_status: int = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error_id, "message": self.message, "details": self.details}


class RoutingError(OneCallError):
    """Base class of every failure the routing store reports."""

    error_id = "routing-error"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.error_id, details=details)


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
