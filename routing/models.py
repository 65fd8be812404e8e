"""Plain, frozen values the routing store takes and returns. No I/O here."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Mapping

from .policy import MAX_PROFICIENCY, MIN_PROFICIENCY


class AgentStatus(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"  # a call is ringing at the agent, not yet answered
    BUSY = "busy"  # talking
    WRAPUP = "wrapup"  # writing the outcome after a call
    BREAK = "break"


# The statuses an agent (desk) or an operator (API) may set by hand; the rest follow calls.
SETTABLE_STATUSES = (AgentStatus.AVAILABLE, AgentStatus.BREAK, AgentStatus.OFFLINE)
# An agent in one of these has a call on their desk (its pop stays shown).
ON_A_CALL = (AgentStatus.RESERVED, AgentStatus.BUSY, AgentStatus.WRAPUP)


class CallPhase(StrEnum):
    """Where a routed call is: in a queue, ringing an agent, talking, over."""

    WAITING = "waiting"
    RESERVED = "reserved"
    CONNECTED = "connected"
    ENDED = "ended"


# A call in one of these still waits for an agent (its caller holds).
STILL_ROUTED = (CallPhase.WAITING, CallPhase.RESERVED)


@dataclass(frozen=True)
class AgentProfile:
    """An agent's configuration: what they can handle and where to ring them."""

    agent_id: str
    name: str
    skills: Mapping[str, int]  # skill -> proficiency 1 (novice) .. 5 (expert)
    languages: tuple[str, ...]
    endpoint: str

    def __post_init__(self) -> None:
        if not self.agent_id:
            raise ValueError("agent_id must not be empty")
        object.__setattr__(self, "skills", dict(self.skills))
        object.__setattr__(self, "languages", tuple(self.languages))
        for skill, level in self.skills.items():
            if not isinstance(level, int) or not MIN_PROFICIENCY <= level <= MAX_PROFICIENCY:
                raise ValueError(
                    f"agent {self.agent_id}: proficiency of {skill!r} must be an int "
                    f"{MIN_PROFICIENCY}..{MAX_PROFICIENCY}, got {level!r}"
                )


@dataclass(frozen=True)
class AgentState:
    agent_id: str
    name: str
    status: str  # an AgentStatus
    since: float  # epoch seconds of the last status change
    call_id: str | None
    skills: Mapping[str, int]
    languages: tuple[str, ...]
    endpoint: str
    reason: str | None  # e.g. "missed" after an unanswered reservation


@dataclass(frozen=True)
class CallRequest:
    call_id: str
    skill: str
    language: str
    priority: int = 0  # higher = more urgent (vulnerable callers e.g. 10)
    citizen_id: str | None = None
    caller: str = ""
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reservation:
    """An agent chosen for a call; ring `endpoint` and `accept`/`reject` before `deadline`."""

    call_id: str
    agent_id: str
    skill: str
    language: str
    citizen_id: str | None
    caller: str
    endpoint: str
    deadline: float


@dataclass(frozen=True)
class WaitingCall:
    call_id: str
    skill: str
    language: str
    priority: int
    enqueued_at: float
    position: int  # 1-based, within its own (skill, language) queue
    citizen_id: str | None
    caller: str


@dataclass(frozen=True)
class CallRecord:
    call_id: str
    state: str  # a CallPhase
    skill: str
    language: str
    priority: int
    agent_id: str | None
    citizen_id: str | None
    caller: str
    enqueued_at: float
    data: Mapping[str, str]


@dataclass(frozen=True)
class EnqueueResult:
    """Either the call was reserved at once (`reservation`) or it waits at `position`."""

    position: int | None
    reservation: Reservation | None
