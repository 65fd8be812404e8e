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
    AgentStatuses,
    CallRecord,
    CallRequest,
    CallStates,
    EnqueueResult,
    Reservation,
    WaitingCall,
)
from .policy import agent_score, call_score, choose_language
from .store import RoutingStore

__all__ = [
    "AgentProfile", "AgentState", "AgentStatuses", "CallAlreadyQueued", "CallRecord",
    "CallRequest", "CallStates", "EnqueueResult", "InvalidTransition", "Keys", "NoSuchAgent",
    "NoSuchCall", "ReservationExpired", "Reservation", "RoutingError", "RoutingStore",
    "WaitingCall", "agent_score", "call_score", "choose_language",
]
