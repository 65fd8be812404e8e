"""Routing: agents, skills, queues, the routing policy and the Redis store (Lua scripts)."""
from .errors import (
    CallAlreadyQueued,
    InvalidTransition,
    NoSuchAgent,
    NoSuchCall,
    ReservationExpired,
    RoutingError,
)
from .keys import Keys
from .models import (
    AgentProfile,
    AgentState,
    AgentStatus,
    CallRecord,
    CallRequest,
    CallPhase,
    ON_A_CALL,
    SETTABLE_STATUSES,
    STILL_ROUTED,
    EnqueueResult,
    Reservation,
    WaitingCall,
)
from .policy import agent_score, call_score, choose_language
from .store import RoutingStore

__all__ = [
    "AgentProfile", "AgentState", "AgentStatus", "CallAlreadyQueued", "CallRecord",
    "CallRequest", "CallPhase", "EnqueueResult", "InvalidTransition", "Keys", "NoSuchAgent",
    "NoSuchCall", "ReservationExpired", "Reservation", "RoutingError", "RoutingStore",
    "WaitingCall", "ON_A_CALL", "SETTABLE_STATUSES", "STILL_ROUTED", "agent_score", "call_score", "choose_language",
]
