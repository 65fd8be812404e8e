"""The state of one call between two events; persisted as JSON between webhooks."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ivr.actions import VERIFICATIONS


@dataclass(frozen=True)
class CallState:
    call_id: str
    caller: str
    node: str | None  # the node waiting for input; None once the call has left the flow
    language: str
    intent: str | None = None
    citizen_id: str | None = None
    verification: str = "none"
    priority: int = 0
    attempts: int = 0  # retries used at the current node
    finished: bool = False

    def to_dict(self) -> dict[str, Any]:
        # Every field is a plain value, so a shallow copy is the JSON-safe form (asdict deep-copies).
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Any) -> "CallState":
        """Rebuild a state from `to_dict()` output; raises ValueError on anything else."""
        if not isinstance(data, dict):
            raise ValueError("call state must be a mapping")
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"call state has unknown fields: {', '.join(sorted(unknown))}")
        for required in ("call_id", "caller", "node", "language"):
            if required not in data:
                raise ValueError(f"call state lacks {required!r}")
        values = {**{f.name: f.default for f in fields(cls) if f.name not in ("call_id", "caller", "node", "language")}, **data}
        for name in ("call_id", "caller", "language", "verification"):
            if not isinstance(values[name], str):
                raise ValueError(f"call state {name!r} must be a string")
        for name in ("node", "intent", "citizen_id"):
            if values[name] is not None and not isinstance(values[name], str):
                raise ValueError(f"call state {name!r} must be a string or null")
        for name in ("priority", "attempts"):
            if isinstance(values[name], bool) or not isinstance(values[name], int):
                raise ValueError(f"call state {name!r} must be an integer")
        if not isinstance(values["finished"], bool):
            raise ValueError("call state 'finished' must be true or false")
        if values["verification"] not in VERIFICATIONS:
            raise ValueError(f"call state verification must be one of {', '.join(VERIFICATIONS)}")
        return cls(**values)
