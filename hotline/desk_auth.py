"""Who is logged in at the agent desktop, and how wrong PINs are slowed down.

A desk login is a session id kept in Redis (`DeskSessions`); the signed cookie only names
it. Logging out deletes it, so a copy of the cookie taken before is refused afterwards.

PIN guesses are counted per agent id typed and per client address (`LoginThrottle`, in
Lua: see `routing.scripts.LOGIN_BEGIN`). A subject with `max_failures` wrong PINs within
`window_seconds` is locked for `lockout_seconds`: its logins are refused whatever the PIN.
Agent ids that could exist are counted whether or not they do, so a lockout tells nobody
which ids are real. A right PIN clears the agent's count but not the address's (one's own
PIN must not wipe the count of guesses at others). Operators see and clear lockouts
through the REST API.
"""
from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from typing import Callable

from hotline.config import LoginRule
from hotline.errors import LoginFailed, LoginLocked, NoSuchLockout
from routing.keys import Keys
from routing.scripts import LOGIN_BEGIN, LOGIN_FAILED, LOGIN_SUCCEEDED

log = logging.getLogger(__name__)

AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")  # what an agent id in the config may be
SUBJECT_KINDS = {"agent": "agent", "address": "addr"}  # API name -> member prefix


class DeskSessions:
    """Desk logins, one Redis key each, living `lifetime_seconds` unless revoked."""

    def __init__(self, redis_client, keys: Keys, *, lifetime_seconds: float) -> None:
        self._redis = redis_client
        self._key = keys.desk_session
        self._lifetime = max(1, int(lifetime_seconds))

    def open(self, agent_id: str) -> str:
        session_id = secrets.token_urlsafe(32)
        self._redis.set(self._key(session_id), agent_id, ex=self._lifetime)
        return session_id

    def agent_of(self, session_id: str | None) -> str | None:
        return self._redis.get(self._key(session_id)) if session_id else None

    def revoke(self, session_id: str | None) -> None:
        if session_id:
            self._redis.delete(self._key(session_id))


class LoginThrottle:
    def __init__(self, redis_client, keys: Keys, *, per_agent: LoginRule, per_address: LoginRule,
                 clock: Callable[[], float] = time.time) -> None:
        self._redis = redis_client
        self._keys = keys
        self._rules = {"agent": per_agent, "addr": per_address}
        self._clock = clock
        self._begin = redis_client.register_script(LOGIN_BEGIN)
        self._failed = redis_client.register_script(LOGIN_FAILED)
        self._succeeded = redis_client.register_script(LOGIN_SUCCEEDED)

    def _subjects(self, agent_id: str, address: str) -> list[str]:
        subjects = [f"addr:{address or 'unknown'}"]
        if AGENT_ID.match(agent_id):  # an id no agent can have is counted by its address only
            subjects.insert(0, f"agent:{agent_id}")
        return subjects

    def _script_args(self, subjects: list[str], now: float) -> tuple[list[str], list]:
        keys, args = [self._keys.login_locks], [repr(now)]
        for member in subjects:
            rule = self._rules[member.partition(":")[0]]
            keys.append(self._keys.login_failures(member))
            args += [member, rule.max_failures, rule.window_seconds, rule.lockout_seconds]
        return keys, args

    def begin(self, agent_id: str, address: str) -> None:
        """Count one attempt before the PIN is compared; LoginLocked when a subject refuses."""
        now = self._clock()
        keys, args = self._script_args(self._subjects(agent_id, address), now)
        refused = self._begin(keys=keys, args=args)
        if refused:
            raise LoginLocked(float(refused[1]), now)

    def failed(self, agent_id: str, address: str) -> None:
        """The PIN was wrong; LoginLocked when this failure locked a subject."""
        now = self._clock()
        keys, args = self._script_args(self._subjects(agent_id, address), now)
        locked_until = self._failed(keys=keys, args=args)
        if locked_until:
            locked = LoginLocked(float(locked_until), now)
            log.warning("desk login locked for %d s after too many wrong PINs (agent id %r, address %s)",
                        locked.retry_after, agent_id[:64], address)
            raise locked

    def succeeded(self, agent_id: str, address: str) -> None:
        member = f"agent:{agent_id}"
        self._succeeded(keys=[self._keys.login_locks, self._keys.login_failures(member),
                              self._keys.login_failures(f"addr:{address or 'unknown'}")], args=[member])

    # -- what an operator sees and does ---------------------------------------------
    def agent_logins(self, agent_ids: list[str]) -> dict[str, dict]:
        """agent id -> {"failures", "locked_until"} (None when not locked)."""
        pipe = self._redis.pipeline(transaction=False)
        for agent_id in agent_ids:
            pipe.hmget(self._keys.login_failures(f"agent:{agent_id}"), "failures", "locked_until")
        return {agent_id: self._login_state(*reply) for agent_id, reply in zip(agent_ids, pipe.execute())}

    def _login_state(self, failures: str | None, locked_until: str | None) -> dict:
        locked = float(locked_until) if locked_until and float(locked_until) > self._clock() else None
        return {"failures": int(failures or 0), "locked_until": locked}

    def lockouts(self) -> list[dict]:
        """Every subject locked now, soonest unlocked first."""
        self._redis.zremrangebyscore(self._keys.login_locks, "-inf", repr(self._clock()))
        locked = self._redis.zrange(self._keys.login_locks, 0, -1)
        states = self._states(locked)
        return [self._lockout(member, state) for member, state in zip(locked, states) if state["locked_until"]]

    def _states(self, members: list[str]) -> list[dict]:
        pipe = self._redis.pipeline(transaction=False)
        for member in members:
            pipe.hmget(self._keys.login_failures(member), "failures", "locked_until")
        return [self._login_state(*reply) for reply in pipe.execute()]

    @staticmethod
    def _lockout(member: str, state: dict) -> dict:
        prefix, _, subject = member.partition(":")
        kind = next(name for name, short in SUBJECT_KINDS.items() if short == prefix)
        return {"kind": kind, "id": subject, **state}

    def clear(self, kind: str, subject: str) -> None:
        """Forget a subject's failures and lift its lockout (NoSuchLockout when it had none)."""
        if kind not in SUBJECT_KINDS:
            raise NoSuchLockout(f"no lockout kind {kind!r}: use one of {', '.join(SUBJECT_KINDS)}")
        member = f"{SUBJECT_KINDS[kind]}:{subject}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._keys.login_failures(member))
        pipe.zrem(self._keys.login_locks, member)
        deleted, _ = pipe.execute()
        if not deleted:
            raise NoSuchLockout(f"{kind} {subject!r} has no failed logins", details={"kind": kind, "id": subject})


class DeskLogin:
    """Logging in and out of the desk: PIN check under the throttle, then a session."""

    def __init__(self, *, sessions: DeskSessions, throttle: LoginThrottle, agent_config, desk) -> None:
        self._sessions = sessions
        self._throttle = throttle
        self._agent_config = agent_config  # agent id -> its AgentConfig, or None
        self._desk = desk

    def log_in(self, agent_id: str, pin: str, address: str, replacing: str | None = None) -> str:
        """A new session id for the agent; LoginFailed or LoginLocked otherwise."""
        self._throttle.begin(agent_id, address)
        agent = self._agent_config(agent_id)
        expected = agent.pin if agent else "-"  # compared anyway: an unknown id costs the same time
        if not hmac.compare_digest(expected.encode(), pin.encode()) or agent is None:
            self._throttle.failed(agent_id, address)  # raises LoginLocked when this one locked
            raise LoginFailed()
        self._throttle.succeeded(agent_id, address)
        self._sessions.revoke(replacing)
        return self._sessions.open(agent.id)

    def agent_of(self, session_id: str | None) -> str | None:
        """The agent logged in with this session, while the session lives and the agent exists."""
        agent_id = self._sessions.agent_of(session_id)
        return agent_id if agent_id and self._agent_config(agent_id) is not None else None

    def log_out(self, session_id: str | None) -> None:
        agent_id = self._sessions.agent_of(session_id)
        self._sessions.revoke(session_id)
        if agent_id:
            self._desk.log_out(agent_id)
