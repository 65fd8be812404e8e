"""The outcome of every answered call, never lost.

The moment an agent answers, the call becomes their *last call*: a record in Redis (the
call's pop as the desk showed it), kept whatever the wrap-up timer, a reload or a logout
does, until the agent saves its outcome. If they answer a newer call first, the older one
is recorded as closed without a note. Either way the outcome is kept on the call (also for
a caller nobody identified) and, for a known citizen, in their consultation history.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Callable

from routing.keys import Keys
from routing.scripts import KEEP_LAST_CALL, REPLACE_LAST_CALL, SAVE_OUTCOME

HISTORY_FIELDS = ("at", "department", "agent", "summary", "call_id", "no_note")  # the caller's number stays on the call


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def _json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False)


def _history_entry(outcome: dict) -> dict:
    """The line a call outcome adds to the citizen's consultation history."""
    return {name: outcome[name] for name in HISTORY_FIELDS}


class CallOutcomes:
    def __init__(self, redis_client, keys: Keys, pops, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis_client
        self._keys = keys
        self._pops = pops  # the pop on the agent's desk when they answer
        self._clock = clock
        self._keep = redis_client.register_script(KEEP_LAST_CALL)
        self._save = redis_client.register_script(SAVE_OUTCOME)
        self._replace = redis_client.register_script(REPLACE_LAST_CALL)

    def answered(self, agent_id: str, call_id: str) -> str | None:
        """`agent_id` took `call_id`: keep it as their last call. Returns the id of an older
        call that was closed without a note because of it."""
        pop = self._pops.current(agent_id)
        if not pop or pop["call"]["id"] != call_id:
            pop = {"call": {"id": call_id}, "citizen": {"identified": False}}
        record = self._record(agent_id, pop, self._clock())
        closed = self._keep(keys=[self._keys.last_call(agent_id), self._keys.call_outcomes],
                            args=[json.dumps(record, ensure_ascii=False), call_id])
        return closed or None

    def last_call(self, agent_id: str) -> dict | None:
        """The agent's last answered call whose outcome is not saved yet."""
        raw = self._redis.get(self._keys.last_call(agent_id))
        return json.loads(raw) if raw else None

    def save(self, agent_id: str, record: dict, note: str) -> bool:
        """Record `note` as the outcome of the agent's last call `record`; False when that call
        is no longer theirs to save (saved already, or a newer call closed it)."""
        outcome = self._outcome(agent_id, record["pop"], self._clock(), note)
        saved = self._save(keys=[self._keys.last_call(agent_id), self._keys.call_outcomes],
                           args=[record["call_id"], _json(outcome), record["history"], _json(_history_entry(outcome))])
        return bool(saved)

    def replace_pop(self, agent_id: str, record: dict, pop: dict) -> bool:
        """The same last call, shown with a new pop (the agent identified the caller)."""
        updated = self._record(agent_id, pop, record["answered_at"])
        replaced = self._replace(keys=[self._keys.last_call(agent_id)],
                                 args=[record["call_id"], json.dumps(updated, ensure_ascii=False)])
        return bool(replaced)

    def of_call(self, call_id: str) -> dict | None:
        """The outcome recorded for a call (None while none is)."""
        raw = self._redis.hget(self._keys.call_outcomes, call_id)
        return json.loads(raw) if raw else None

    def _record(self, agent_id: str, pop: dict, answered_at: float) -> dict:
        citizen = pop.get("citizen") or {}
        history = self._keys.citizen_consultations(citizen["id"]) if citizen.get("identified") else ""
        closed = self._outcome(agent_id, pop, answered_at, "")
        return {"call_id": pop["call"]["id"], "answered_at": answered_at, "pop": pop, "history": history,
                "closed": _json(closed), "closed_entry": _json(_history_entry(closed))}

    @staticmethod
    def _outcome(agent_id: str, pop: dict, at: float, note: str) -> dict:
        """The outcome of a call: its consultation entry, plus who called and who they are."""
        call, citizen = pop["call"], pop.get("citizen") or {}
        return {"at": _iso(at), "department": call.get("skill", ""), "agent": agent_id, "summary": note,
                "call_id": call["id"], "citizen_id": citizen.get("id") if citizen.get("identified") else None,
                "caller": call.get("caller", ""), "no_note": not note}
