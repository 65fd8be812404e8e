"""`RoutingStore`: agents, waiting calls and reservations in Redis.

Every state change is one Lua script from `routing.scripts` (one round trip, atomic,
O(log n) in the size of the indexes); this module only builds arguments and turns raw
replies into `routing.models` values or `routing.errors` exceptions.

The client may be created with or without ``decode_responses``: replies are decoded here.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterable

import redis
from redis.exceptions import NoScriptError

from . import policy, scripts
from .errors import ERRORS_BY_ID, InvalidTransition, NoSuchAgent, NoSuchCall, RoutingError
from .keys import Keys, pair_suffix
from .models import (
    AgentProfile,
    AgentState,
    AgentStatus,
    CallRecord,
    CallRequest,
    EnqueueResult,
    Reservation,
    WaitingCall,
)

_BATCH = 1000  # reservations / wrap-ups handled per expire script run
MAX_WRAPUP_SECONDS = 3600.0  # an extended wrap-up never ends later than this after now


def _s(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def _opt(value: Any) -> str | None:
    value = _s(value)
    return value or None


def _reservation(raw: Any) -> Reservation | None:
    if not raw:
        return None
    if type(raw[0]) is bytes:  # client without decode_responses
        raw = [_s(v) for v in raw]
    cid, aid, skill, lang, citizen, caller, endpoint, deadline = raw
    return Reservation(cid, aid, skill, lang, citizen or None, caller or "", endpoint or "", float(deadline))


def _hash(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {_s(k): _s(v) for k, v in raw.items()}
    it = iter(raw)  # flat HGETALL reply from a script
    return {_s(k): _s(v) for k, v in zip(it, it)}


def _call_record(call_id: str, h: dict[str, str]) -> CallRecord:
    return CallRecord(
        call_id=call_id,
        state=h.get("state", ""),
        skill=h.get("skill", ""),
        language=h.get("language", ""),
        priority=int(h.get("priority") or 0),
        agent_id=h.get("agent_id") or None,
        citizen_id=h.get("citizen_id") or None,
        caller=h.get("caller", ""),
        enqueued_at=float(h.get("enqueued_at") or 0.0),
        data=json.loads(h["data"]) if h.get("data") else {},
    )


def _agent_state(agent_id: str, h: dict[str, str]) -> AgentState:
    return AgentState(
        agent_id=agent_id,
        name=h.get("name", ""),
        status=h.get("status", ""),
        since=float(h.get("since") or 0.0),
        call_id=h.get("call_id") or None,
        skills=json.loads(h["skills"]) if h.get("skills") else {},
        languages=tuple(json.loads(h["languages"])) if h.get("languages") else (),
        endpoint=h.get("endpoint", ""),
        reason=h.get("reason") or None,
    )


def _routing_error(exc: redis.ResponseError) -> Exception:
    message = str(exc)
    error_id, _, rest = message.partition(" ")
    cls = ERRORS_BY_ID.get(error_id)
    if cls is None:
        return exc
    parts = rest.split(" ")
    if cls is InvalidTransition and len(parts) == 2:
        return InvalidTransition(f"agent cannot go from {parts[0]} to {parts[1]}", from_status=parts[0], to_status=parts[1])
    if cls is NoSuchAgent:
        return NoSuchAgent(f"no such agent: {rest}", agent_id=rest)
    if cls is NoSuchCall:
        return NoSuchCall(f"no such call: {rest}", call_id=rest)
    if cls.error_id == "reservation-expired" and len(parts) == 2:
        return cls(f"call {parts[0]} is not (or no longer) reserved for agent {parts[1]}", call_id=parts[0], agent_id=parts[1])
    return cls(f"{error_id}: {rest}")


class RoutingStore:
    """The routing engine's state in Redis, for one hotline `namespace`."""

    def __init__(
        self,
        redis_client: redis.Redis,
        namespace: str = "120",
        reservation_timeout: float = 20.0,
        wrapup_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
        ended_call_ttl: int = 86400,
    ) -> None:
        self.redis = redis_client
        self.keys = Keys(namespace)
        self.reservation_timeout = float(reservation_timeout)
        self.wrapup_seconds = float(wrapup_seconds)
        self.clock = clock
        self.ended_call_ttl = int(ended_call_ttl)
        reg = redis_client.register_script
        self._set_status = reg(scripts.SET_STATUS)
        self._enqueue = reg(scripts.ENQUEUE)
        self._accept = reg(scripts.ACCEPT)
        self._reject = reg(scripts.REJECT)
        self._expire_reservations = reg(scripts.EXPIRE_RESERVATIONS)
        self._end_call = reg(scripts.END_CALL)
        self._expire_wrapups = reg(scripts.EXPIRE_WRAPUPS)
        self._extend_wrapup = reg(scripts.EXTEND_WRAPUP)
        self._upsert_agent = reg(scripts.UPSERT_AGENT)
        self._remove_agent = reg(scripts.REMOVE_AGENT)
        self._queue_position = reg(scripts.QUEUE_POSITION)

    # -- plumbing -------------------------------------------------------------------------
    def _now(self) -> float:
        return float(self.clock())

    def _common(self, now: float) -> tuple[str, str]:
        """The common ARGV of the scripts (see `routing.scripts`): now, reservation deadline.

        The prefix is not passed (scripts derive it from KEYS[1], the events stream), nor
        now in ms (Lua computes ``floor(now * 1000)``, equal to `policy.to_ms`).
        """
        return repr(now), repr(now + self.reservation_timeout)

    def _run(self, script: Any, keys: list[str], args: tuple, common: tuple | None = None) -> Any:
        """EVALSHA `script` (one round trip); load it on NOSCRIPT; map error replies."""
        if common is None:
            now = float(self.clock())
            common = (repr(now), repr(now + self.reservation_timeout))
        try:
            try:
                return self.redis.execute_command("EVALSHA", script.sha, len(keys), *keys, *common, *args)
            except NoScriptError:  # first use on this server, or after SCRIPT FLUSH
                script.sha = self.redis.script_load(script.script)
                return self.redis.execute_command("EVALSHA", script.sha, len(keys), *keys, *common, *args)
        except redis.ResponseError as exc:
            raise _routing_error(exc) from None

    # -- agents ---------------------------------------------------------------------------
    def sync_agents(self, profiles: Iterable[AgentProfile]) -> list[Reservation]:
        """Upsert agent configuration (live state kept; new agents start offline).

        Agents missing from `profiles` are removed if offline (kept otherwise, until a
        later sync finds them offline).  Returns reservations made when an available
        agent's new skills matched waiting calls (usually empty).
        """
        k = self.keys
        made: list[Reservation] = []
        wanted: set[str] = set()
        for p in profiles:
            wanted.add(p.agent_id)
            pairs = "".join(
                f"{p.skills[skill]} {pair_suffix(skill, lang)}\n"
                for skill, lang in policy.language_pairs(p.skills, p.languages)
            )
            raw = self._run(
                self._upsert_agent,
                [k.events, k.agent(p.agent_id)],
                (p.agent_id, p.name, json.dumps(dict(p.skills)), json.dumps(list(p.languages)), p.endpoint, pairs),
            )
            if raw:
                made.append(_reservation(raw))
        for aid in self._agent_ids():
            if aid not in wanted:
                self._run(self._remove_agent, [k.events, k.agent(aid)], (aid,))
        # Recompute which (skill, language) pairs some configured agent covers.
        covered: set[str] = set()
        for state in self.agents():
            covered.update(pair_suffix(s, l) for s, l in policy.language_pairs(state.skills, state.languages))
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(k.pairs)
        if covered:
            pipe.sadd(k.pairs, *covered)
        pipe.execute()
        return made

    def language_pairs(self) -> set[tuple[str, str]]:
        """(skill, language) pairs covered by some configured agent."""
        return {tuple(_s(m).split("|", 1)) for m in self.redis.smembers(self.keys.pairs)}  # type: ignore[misc]

    def language_for(self, skill: str, language: str, default: str) -> str:
        """`language` if some agent covers (skill, language), else `default` (policy.choose_language)."""
        return policy.choose_language(language, skill, self.language_pairs(), default)

    def set_status(self, agent_id: str, status: str, reason: str = "") -> Reservation | None:
        """Change an agent's status; going available reserves the best waiting call it can serve."""
        k = self.keys
        raw = self._run(self._set_status, [k.events, k.agent(agent_id)], (agent_id, status, reason or "", ""))
        return _reservation(raw)

    def finish_wrapup(self, agent_id: str) -> Reservation | None:
        """Wrap-up done early (agent clicked ready): wrapup -> available, with a match."""
        k = self.keys
        raw = self._run(self._set_status, [k.events, k.agent(agent_id)], (agent_id, AgentStatus.AVAILABLE, "", AgentStatus.WRAPUP))
        return _reservation(raw)

    def expire_wrapups(self) -> list[Reservation]:
        """Agents past their wrap-up deadline become available; returns the reservations made."""
        return self._expire(self._expire_wrapups)

    def extend_wrapup(self, agent_id: str, seconds: float) -> float:
        """More time to finish the notes: the agent's wrap-up deadline moves `seconds` later
        (at most MAX_WRAPUP_SECONDS from now). Returns the new deadline."""
        k = self.keys
        now = self._now()
        raw = self._run(self._extend_wrapup, [k.events, k.agent(agent_id)],
                        (agent_id, repr(float(seconds)), repr(now + MAX_WRAPUP_SECONDS)), self._common(now))
        return float(_s(raw))

    def wrapup_deadline(self, agent_id: str) -> float | None:
        """When the agent's wrap-up ends (None when they are not in one)."""
        score = self.redis.zscore(self.keys.wrapups, agent_id)
        return float(score) if score is not None else None

    def agent(self, agent_id: str) -> AgentState:
        h = _hash(self.redis.hgetall(self.keys.agent(agent_id)))
        if not h:
            raise NoSuchAgent(f"no such agent: {agent_id}", agent_id=agent_id)
        return _agent_state(agent_id, h)

    def _agent_ids(self) -> list[str]:
        return sorted(_s(m) for m in self.redis.smembers(self.keys.agents))

    def agents(self) -> list[AgentState]:
        ids = self._agent_ids()
        pipe = self.redis.pipeline(transaction=False)
        for aid in ids:
            pipe.hgetall(self.keys.agent(aid))
        return [_agent_state(aid, _hash(h)) for aid, h in zip(ids, pipe.execute()) if h]

    # -- calls ----------------------------------------------------------------------------
    def enqueue(self, call: CallRequest, fallback_language: str | None = None) -> EnqueueResult:
        """Queue a call; reserve an agent at once if one is available for its queue.

        With `fallback_language`, a language no configured agent covers for this skill is
        replaced by it first (see `language_for`).
        """
        k = self.keys
        language = call.language
        if fallback_language is not None:
            language = self.language_for(call.skill, language, fallback_language)
        priority = policy.clamp_priority(call.priority)
        now = self._now()
        common = self._common(now)  # the score uses the same clock reading as the script's `now`
        args = (
            call.call_id,
            call.skill,
            language,
            str(priority),
            str(policy.call_score(priority, now)),
            call.citizen_id or "",
            call.caller or "",
            json.dumps(dict(call.data)) if call.data else "",
        )
        raw = self._run(self._enqueue, [k.events, k.call(call.call_id), k.queue(call.skill, language)], args, common)
        position, res = raw[0], raw[1] if len(raw) > 1 else None
        return EnqueueResult(int(position) if position else None, _reservation(res))

    def accept(self, call_id: str, agent_id: str) -> CallRecord:
        """The reserved agent answered: agent busy, call connected."""
        k = self.keys
        raw = self._run(self._accept, [k.events, k.call(call_id), k.agent(agent_id)], (call_id, agent_id))
        return _call_record(call_id, _hash(raw))

    def reject(self, call_id: str, agent_id: str, reason: str = "no-answer") -> Reservation | None:
        """The agent did not answer: call back to the head of its queue, agent on break, re-offer."""
        k = self.keys
        raw = self._run(self._reject, [k.events, k.call(call_id), k.agent(agent_id)], (call_id, agent_id, reason))
        return _reservation(raw)

    def expire_reservations(self) -> list[Reservation]:
        """Undo every reservation past its deadline (like reject, reason 'timeout')."""
        return self._expire(self._expire_reservations)

    def _expire(self, script: Any) -> list[Reservation]:
        made: list[Reservation] = []
        while True:
            raw = self._run(script, [self.keys.events], (str(_BATCH),))
            made.extend(_reservation(r) for r in raw[1:])
            if int(raw[0]) < _BATCH:
                return made

    def end_call(self, call_id: str, reason: str = "hangup") -> Reservation | None:
        """The call is over (hang-up, finished).  Returns the released agent's new reservation, if any."""
        k = self.keys
        now = self._now()
        raw = self._run(
            self._end_call,
            [k.events, k.call(call_id)],
            (call_id, reason, str(self.ended_call_ttl), repr(now + self.wrapup_seconds)),
            self._common(now),
        )
        return _reservation(raw)

    def queue_position(self, call_id: str) -> int | None:
        r = self._queue_position([self.keys.call(call_id)], (self.keys.prefix, call_id))
        return int(r) if r else None

    def call(self, call_id: str) -> CallRecord:
        h = _hash(self.redis.hgetall(self.keys.call(call_id)))
        if not h:
            raise NoSuchCall(f"no such call: {call_id}", call_id=call_id)
        return _call_record(call_id, h)

    def call_states(self, call_ids: list[str]) -> list[str | None]:
        """The state of each call (None when the router no longer has it), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for call_id in call_ids:
            pipe.hget(self.keys.call(call_id), "state")
        return [_opt(state) for state in pipe.execute()] if call_ids else []

    def waiting_calls(self) -> list[WaitingCall]:
        """Every waiting call of every queue, in serving order (priority, then wait)."""
        k = self.keys
        suffixes = sorted(_s(m) for m in self.redis.smembers(k.queues))
        pipe = self.redis.pipeline(transaction=False)
        for sfx in suffixes:
            pipe.zrange(k.queue_of_suffix(sfx), 0, -1, withscores=True)
        entries: list[tuple[float, str, int]] = []
        for members in pipe.execute():
            for rank, (cid, score) in enumerate(members):
                entries.append((score, _s(cid), rank + 1))
        entries.sort()
        for _, cid, _ in entries:
            pipe.hgetall(k.call(cid))
        out: list[WaitingCall] = []
        for (_, cid, position), raw in zip(entries, pipe.execute() if entries else []):
            h = _hash(raw)
            if not h:
                continue
            out.append(
                WaitingCall(
                    call_id=cid,
                    skill=h.get("skill", ""),
                    language=h.get("language", ""),
                    priority=int(h.get("priority") or 0),
                    enqueued_at=float(h.get("enqueued_at") or 0.0),
                    position=position,
                    citizen_id=h.get("citizen_id") or None,
                    caller=h.get("caller", ""),
                )
            )
        return out

    def events(self, count: int | None = None) -> list[tuple[str, dict[str, str]]]:
        """The lifecycle stream, oldest first (for tests, the wallboard, history)."""
        raw = self.redis.xrange(self.keys.events, count=count)
        return [(_s(eid), _hash(fields)) for eid, fields in raw]


__all__ = ["RoutingStore", "RoutingError"]
