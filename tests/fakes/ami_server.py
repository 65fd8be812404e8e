"""A fake Asterisk Manager Interface server that speaks AMI over a real TCP socket.

What it reproduces, and from which real bytes:

- Wire format (`../shared/protocol/ami/events.md` section 1): the banner line
  `Asterisk Call Manager/11.0.0` (Asterisk 22), `Key: Value` lines ended by CRLF, a blank
  line after each message. Replies are ordered Response, ActionID (only when the action had
  one), EventList, Message, as manager.c `astman_send_response_full` writes them. Events are
  ordered Event, Privilege, Timestamp (manager.conf `timestampevents=yes`, as in the
  captures), then the body.
- Login (06b-after-restart-reconnect.rx.txt): `Response: Success` / `Message:
  Authentication accepted`, then `Event: FullyBooted` (Privilege system,all, Uptime,
  LastReload, Status; no Timestamp) when the session's event mask lets system events
  through, then the security event `SuccessfulAuth`. A wrong secret is answered after a
  delay (Asterisk sleeps 1 s) with `Response: Error` / `Message: Authentication failed`
  and the socket is closed. Actions before login get `Permission denied`; `Logoff` gets
  `Response: Goodbye` / `Message: Thanks for all the fish.` and the socket is closed.
- The `Events:` mask of Login filters events as manager.c does: `on`, `off`, a number or
  a list of classes (`system,call`); an event goes to a session when all its classes are
  in the mask.
- Originate (01-queue-call-dtmf.rx.txt, 07-panoramisk.rx.txt; main/manager.c
  `fast_originate`, main/pbx.c `pbx_outgoing_attempt`): `Originate successfully queued`,
  then Newchannel, DialBegin, Newstate Ringing, DialState RINGING, Newstate Up, DialEnd
  ANSWER and `OriginateResponse` (ActionID, Response, Channel, Context, Exten or
  Application, Data, Reason, Uniqueid, CallerIDNum, CallerIDName). When the call is not
  answered the dialled channel is hung up first, so the OriginateResponse names the
  *requested* channel (`PJSIP/1001`) and its Uniqueid is the Originate's `ChannelId` or
  `<unknown>`: only the ActionID (or a ChannelId) ties a failure to its Originate.
- Hangup (05-bridge.txt; main/manager.c `action_hangup`): `Channel` is a channel name or,
  failing that, a Uniqueid (an originated leg's `ChannelId`); `Channel Hungup`, then
  SoftHangupRequest and Hangup; `No such channel` otherwise. A leg hung up while it rings
  ends its Originate with `OriginateResponse` Failure, Reason 1 (hangup).
- CoreShowChannels (main/manager.c `action_coreshowchannels`): list ack, one
  `CoreShowChannel` per channel (no Privilege), `CoreShowChannelsComplete` with ListItems.
- `core restart now` (06-core-restart.rx.txt, 06b): SoftHangupRequest and Hangup for every
  channel, `Event: Shutdown` (`Shutdown: Cleanly`, `Restart: True`), sockets closed, the
  port refusing connections (optionally resetting the first one) until Asterisk is back.

Everything runs on one asyncio loop in a background thread; every public method is
thread-safe and may be called from tests, from callbacks, or from the loop itself.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import itertools
import re
import socket
import struct
import threading
import time
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

AMI_VERSION = "11.0.0"  # Asterisk 22 (events.md section 1)

CHANNEL_STATES = {0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing",
                  6: "Up", 7: "Busy", 8: "Dialing Offhook", 9: "Pre-ring"}

CAUSES = {0: "Unknown", 1: "Unallocated (unassigned) number", 16: "Normal Clearing", 17: "User busy",
          18: "No user responding", 19: "User alerting, no answer", 20: "Subscriber absent",
          21: "Call Rejected", 26: "Answered elsewhere", 27: "Destination out of order",
          31: "Normal, unspecified", 34: "Circuit/channel congestion", 38: "Network out of order",
          41: "Temporary failure", 66: "Channel not implemented", 127: "Interworking, unspecified"}

DEVICE_STATES = ("UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING",
                 "RINGINUSE", "ONHOLD")

CONTACT_STATUSES = ("Created", "Removed", "Reachable", "Unreachable", "Updated", "Unknown", "NonQualified")

# manager.h EVENT_FLAG_* bits, by the class names used in Privilege and in Login's Events mask.
CLASS_BITS = {"system": 1, "call": 2, "log": 4, "verbose": 8, "command": 16, "agent": 32, "user": 64,
              "config": 128, "dtmf": 256, "reporting": 512, "cdr": 1024, "dialplan": 2048,
              "originate": 4096, "agi": 8192, "cc": 16384, "aoc": 32768, "test": 65536,
              "security": 131072, "message": 262144}
ALL_CLASSES = sum(CLASS_BITS.values())

_EVENT_CLASS = {
    "call": ("Newchannel", "Newstate", "Hangup", "HangupRequest", "SoftHangupRequest", "DialBegin",
             "DialState", "DialEnd", "BridgeCreate", "BridgeEnter", "BridgeLeave", "BridgeDestroy",
             "OriginateResponse", "DeviceStateChange", "NewCallerid", "NewConnectedLine", "NewAccountCode",
             "MusicOnHoldStart", "MusicOnHoldStop", "LocalBridge", "Hold", "Unhold", "Rename",
             "ExtensionStatus", "PresenceStateChange"),
    "dialplan": ("Newexten", "VarSet"),
    "system": ("FullyBooted", "Shutdown", "Reload", "ContactStatus", "PeerStatus", "Registry"),
    "agent": ("QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentCalled", "AgentConnect",
              "AgentComplete", "AgentRingNoAnswer", "AgentDump", "QueueMemberStatus", "QueueMemberAdded",
              "QueueMemberRemoved", "QueueMemberPause", "QueueMemberPenalty", "QueueMemberRinginuse"),
    "user": ("UserEvent",),
    "dtmf": ("DTMFBegin", "DTMFEnd"),
    "security": ("SuccessfulAuth", "FailedACL", "InvalidAccountID", "InvalidPassword", "ChallengeSent",
                 "ChallengeResponseFailed"),
    "agi": ("AGIExecStart", "AGIExecEnd", "AsyncAGIStart", "AsyncAGIExec", "AsyncAGIEnd"),
    "cdr": ("Cdr",),
    "reporting": ("RTCPSent", "RTCPReceived"),
}
EVENT_PRIVILEGE = {name.lower(): f"{cls},all" for cls, names in _EVENT_CLASS.items() for name in names}

_TRUE = ("yes", "true", "y", "t", "1", "on")
_FALSE = ("no", "false", "n", "f", "0", "off")


def event_mask(value: str | None) -> int:
    """The class bits a Login `Events:` header lets through (manager.c strings_to_mask)."""
    if value is None or not value.strip():
        return ALL_CLASSES
    text = value.strip()
    if text.isdigit():
        return int(text)
    if text.lower() in _FALSE:
        return 0
    if text.lower() in _TRUE:
        return ALL_CLASSES
    names = [part.strip().lower() for part in text.split(",")]
    if "all" in names:
        return ALL_CLASSES
    return sum(CLASS_BITS.get(name, 0) for name in set(names))


def privilege_bits(privilege: str | None) -> int | None:
    """Class bits of a `Privilege: call,all` value; None for an event without Privilege."""
    if privilege is None:
        return None
    return sum(CLASS_BITS.get(part.strip().lower(), 0) for part in privilege.split(",")
               if part.strip().lower() != "all")


class Headers(dict):
    """An AMI message as received: header -> value, or a list of values for a repeated
    header (`Variable:`). Keys keep the client's spelling; look-ups ignore case, as
    Asterisk's astman_get_header does."""

    def _real_key(self, key):
        if dict.__contains__(self, key):
            return key
        if isinstance(key, str):
            lower = key.lower()
            for candidate in self:
                if candidate.lower() == lower:
                    return candidate
        return None

    def __getitem__(self, key):
        real = self._real_key(key)
        if real is None:
            raise KeyError(key)
        return dict.__getitem__(self, real)

    def __contains__(self, key) -> bool:
        return self._real_key(key) is not None

    def get(self, key, default=None):
        real = self._real_key(key)
        return default if real is None else dict.__getitem__(self, real)

    def first(self, key: str, default: str = "") -> str:
        """The value of a header (its first value when repeated)."""
        value = self.get(key, default)
        return value[0] if isinstance(value, list) else value

    def all(self, key: str) -> list[str]:
        """Every value of a header, in the order sent."""
        value = self.get(key)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]


def parse_message(lines: Iterable[str]) -> Headers:
    """`Key: Value` lines -> Headers; the value starts after the colon and its blanks."""
    message = Headers()
    for line in lines:
        key, colon, value = line.partition(":")
        if not colon:
            continue
        key, value = key.strip(), value.lstrip(" \t")
        real = message._real_key(key)
        if real is None:
            message[key] = value
        else:
            previous = dict.__getitem__(message, real)
            message[real] = (previous if isinstance(previous, list) else [previous]) + [value]
    return message


def format_message(pairs: Iterable[tuple[str, Any]]) -> bytes:
    """Ordered (key, value) pairs -> one AMI message; a list value repeats the header."""
    out = []
    for key, value in pairs:
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            out.append(f"{key}: {item}\r\n")
    out.append("\r\n")
    return "".join(out).encode("utf-8")


def _pairs(message: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return list(message.items()) if isinstance(message, Mapping) else list(message)


def parse_callerid(value: str) -> tuple[str, str]:
    """`"Citizen Two" <5550002>` -> (number, name), as ast_callerid_parse splits it."""
    value = value.strip()
    match = re.fullmatch(r'(?:"?(?P<name>[^"<]*?)"?\s*)?<(?P<num>[^>]*)>', value)
    if match:
        return match.group("num").strip(), (match.group("name") or "").strip()
    if re.fullmatch(r"[+\d*#]+", value):
        return value, ""
    return "", value


def cause_text(cause: int) -> str:
    return CAUSES.get(cause, "Unknown")


def _state_number(state: int | str) -> int:
    if isinstance(state, int):
        return state
    for number, desc in CHANNEL_STATES.items():
        if desc.lower() == state.lower():
            return number
    raise ValueError(f"unknown channel state {state!r}; one of {list(CHANNEL_STATES.values())}")


@dataclass
class FakeChannel:
    """A live channel as Asterisk reports it in the [chan] block of events."""

    channel: str
    uniqueid: str
    linkedid: str
    state: int = 6
    caller_id_num: str = "<unknown>"
    caller_id_name: str = "<unknown>"
    connected_line_num: str = "<unknown>"
    connected_line_name: str = "<unknown>"
    language: str = "en"
    account_code: str = ""
    context: str = "default"
    exten: str = "s"
    priority: int = 1
    application: str = ""
    application_data: str = ""
    bridge_id: str = ""
    variables: dict = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic, repr=False)

    @property
    def state_desc(self) -> str:
        return CHANNEL_STATES.get(self.state, f"Unknown ({self.state})")

    def block(self, prefix: str = "") -> list[tuple[str, Any]]:
        """The 14 [chan] headers in wire order; prefix "Dest" gives [chan:Dest]."""
        return [(prefix + key, value) for key, value in (
            ("Channel", self.channel), ("ChannelState", self.state), ("ChannelStateDesc", self.state_desc),
            ("CallerIDNum", self.caller_id_num), ("CallerIDName", self.caller_id_name),
            ("ConnectedLineNum", self.connected_line_num), ("ConnectedLineName", self.connected_line_name),
            ("Language", self.language), ("AccountCode", self.account_code), ("Context", self.context),
            ("Exten", self.exten), ("Priority", self.priority), ("Uniqueid", self.uniqueid),
            ("Linkedid", self.linkedid))]

    def duration(self) -> str:
        seconds = int(time.monotonic() - self.created)
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


OUTCOMES = {"answer": "answer", "answered": "answer", "no-answer": "no-answer", "noanswer": "no-answer",
            "busy": "busy", "congestion": "congestion", "unreachable": "congestion", "fail": "fail",
            "failure": "fail", "error": "error"}

# outcome -> (DialEnd DialStatus, OriginateResponse Reason, Hangup Cause) per pbx.c pbx_dial_reason
_FAILED_DIALS = {"no-answer": ("NOANSWER", 3, 19), "busy": ("BUSY", 5, 17), "congestion": ("CONGESTION", 8, 34)}


@dataclass
class OriginateOutcome:
    """What happens to one Originate.

    result: "answer" (Reason 4), "no-answer" (3), "busy" (5), "congestion"/"unreachable"
    (8), "fail" (0: the channel could not even be created) or "error" (the action itself
    is answered `Response: Error` / `Message: Originate failed`).
    delay: seconds between ringing and the result.
    then: called after an answer, on a worker thread, with the answered FakeChannel (its
    `variables` hold the Originate's `Variable:` headers): start the agent leg's
    FakeAgiChannel there, for instance.
    hangup_cause: Cause of the dialled channel's Hangup when not answered.
    """

    result: str = "answer"
    delay: float = 0.0
    then: Callable[[FakeChannel], Any] | None = None
    hangup_cause: int | None = None
    application: str | None = None
    application_data: str | None = None

    def __post_init__(self) -> None:
        if self.result not in OUTCOMES:
            raise ValueError(f"unknown originate outcome {self.result!r}; one of {sorted(OUTCOMES)}")
        self.result = OUTCOMES[self.result]


@dataclass(frozen=True)
class SessionInfo:
    peer: tuple
    logged_in: bool
    username: str | None
    events: str | None


class _Session:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.peer = writer.get_extra_info("peername")
        self.logged_in = False
        self.username: str | None = None
        self.events: str | None = None
        self.mask = ALL_CLASSES

    def wants(self, privilege: str | None) -> bool:
        bits = privilege_bits(privilege)
        if bits is None:
            return self.mask != 0
        return self.mask != 0 and (self.mask & bits) == bits

    def write(self, data: bytes) -> None:
        if not self.writer.transport.is_closing():
            self.writer.write(data)

    def info(self) -> SessionInfo:
        return SessionInfo(self.peer, self.logged_in, self.username, self.events)


def _parse_variables(values: list[str]) -> dict[str, str]:
    variables = {}
    for value in values:
        for item in value.split(","):
            name, _, val = item.partition("=")
            if name.strip():
                variables[name.strip()] = val
    return variables


class FakeAsterisk:
    """An AMI server on 127.0.0.1 (ephemeral port) on a background thread."""

    def __init__(self, username: str = "onecall", secret: str = "s3cret", *, host: str = "127.0.0.1",
                 port: int = 0, login_failure_delay: float = 0.05, timestamp_events: bool = True,
                 security_events: bool = True) -> None:
        self.username, self.secret = username, secret
        self.host, self.port = host, port
        self.login_failure_delay = login_failure_delay
        self.timestamp_events = timestamp_events
        self.security_events = security_events
        # Called on a worker thread for each Originate, before it is answered: returns an
        # OriginateOutcome, an outcome name ("busy") or None (answer at once).
        self.on_originate: Callable[[Headers], OriginateOutcome | str | None] | None = None
        # Extra actions: name -> function(action) returning the replies to send, each a dict
        # or a list of (key, value); ActionID is put second when missing.
        self.handlers: dict[str, Callable[[Headers], list]] = {}
        self.login_event_masks: list[str | None] = []
        self.logins = 0
        self.errors: list[BaseException] = []
        self._cond = threading.Condition()
        self._actions: list[Headers] = []
        self._channels: dict[str, FakeChannel] = {}
        self._sessions: list[_Session] = []
        self._uid_seq = itertools.count()
        self._chan_seq = itertools.count(1)
        self._boot = time.monotonic()
        self._up = False
        self._running = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> int:
        """Listen and return the port."""
        if self._thread is not None:
            raise RuntimeError("FakeAsterisk already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="fake-asterisk-cb")
        self._thread = threading.Thread(target=self._run, args=(ready, failure), name="fake-asterisk", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("FakeAsterisk did not start within 10 s")
        if failure:
            self._thread.join(5)
            self._thread = None
            raise failure[0]
        return self.port

    def stop(self) -> None:
        """Close every socket and the loop; re-raises the first error of a test callback."""
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        if self._on_loop():
            raise RuntimeError("stop() waits for the loop: call it from a test or a callback thread")
        if loop is not None and self._running:
            loop.call_soon_threadsafe(self._stopping.set)
        thread.join(10)
        self._thread = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self.errors:
            raise RuntimeError(f"a FakeAsterisk callback failed: {self.errors[0]!r}") from self.errors[0]

    def __enter__(self) -> "FakeAsterisk":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _run(self, ready: threading.Event, failure: list) -> None:
        asyncio.run(self._main(ready, failure))

    async def _main(self, ready: threading.Event, failure: list) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._stopping = asyncio.Event()
        try:
            await self._listen()
        except OSError as exc:
            failure.append(exc)
            ready.set()
            return
        self._running = True
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            self._running = False
            await self._close_listener()
            for session in self._session_list():
                session.writer.transport.abort()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        with self._cond:
            self._up = True
            self._cond.notify_all()

    async def _close_listener(self) -> None:
        server, self._server = self._server, None
        with self._cond:
            self._up = False
            self._cond.notify_all()
        if server is not None:
            server.close()
            await server.wait_closed()

    # -- cross-thread plumbing ---------------------------------------------------------

    def _on_loop(self) -> bool:
        return threading.get_ident() == self._loop_thread_id

    def _call(self, function: Callable, *args):
        """Run `function(*args)` on the loop and return its result (inline when already there)."""
        if not self._running or self._loop is None:
            raise RuntimeError("FakeAsterisk is not running; call start() first")
        if self._on_loop():
            return function(*args)
        future: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args))
                except BaseException as exc:
                    future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout=10)

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(task.exception())

    async def _in_worker(self, function: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    # -- what tests read ---------------------------------------------------------------

    @property
    def actions(self) -> list[Headers]:
        """Every action received so far, in order (a copy)."""
        with self._cond:
            return list(self._actions)

    def actions_named(self, name: str) -> list[Headers]:
        return [action for action in self.actions if action.first("Action").lower() == name.lower()]

    def reset_actions(self) -> None:
        with self._cond:
            self._actions.clear()

    def wait_for_action(self, name: str, timeout: float = 5.0,
                        predicate: Callable[[Headers], bool] | None = None, index: int = 0) -> Headers:
        """The `index`-th action named `name` (and matching `predicate`), waiting for it."""
        def found():
            matches = [a for a in self._actions if a.first("Action").lower() == name.lower()
                       and (predicate is None or predicate(a))]
            return matches[index] if len(matches) > index else None

        with self._cond:
            if self._cond.wait_for(found, timeout):
                return found()
            seen = [(a.first("Action"), a.first("ActionID")) for a in self._actions]
        raise AssertionError(f"no {name} action #{index} within {timeout}s; received (Action, ActionID): {seen}")

    @property
    def channels(self) -> Mapping[str, FakeChannel]:
        """Live channels by Uniqueid (a read-only snapshot)."""
        with self._cond:
            return types.MappingProxyType({uid: dataclasses.replace(ch) for uid, ch in self._channels.items()})

    def channel_named(self, name: str) -> FakeChannel | None:
        with self._cond:
            for channel in self._channels.values():
                if channel.channel.lower() == name.lower():
                    return dataclasses.replace(channel)
        return None

    @property
    def sessions(self) -> list[SessionInfo]:
        return [session.info() for session in self._session_list()]

    @property
    def logged_in_count(self) -> int:
        with self._cond:
            return sum(1 for session in self._sessions if session.logged_in)

    @property
    def is_up(self) -> bool:
        """True while the port accepts connections."""
        with self._cond:
            return self._up

    def wait_logged_in(self, count: int = 1, timeout: float = 5.0) -> int:
        """Wait until at least `count` sessions are logged in right now."""
        with self._cond:
            if self._cond.wait_for(lambda: self._logged_in_locked() >= count, timeout):
                return self._logged_in_locked()
            now = self._logged_in_locked()
        raise AssertionError(f"{now} logged-in AMI session(s) after {timeout}s, wanted {count}")

    def wait_up(self, timeout: float = 5.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._up, timeout):
                raise AssertionError(f"FakeAsterisk not listening again after {timeout}s")

    def _logged_in_locked(self) -> int:
        return sum(1 for session in self._sessions if session.logged_in)

    def _session_list(self) -> list[_Session]:
        with self._cond:
            return list(self._sessions)

    # -- what tests do -----------------------------------------------------------------

    def new_uniqueid(self) -> str:
        """`<epoch>.<sequence>`, as Asterisk numbers channels."""
        return f"{int(time.time())}.{next(self._uid_seq)}"

    def add_channel(self, channel: str, uniqueid: str | None = None, linkedid: str | None = None, *,
                    announce: bool = False, **fields: Any) -> FakeChannel:
        """Make a channel live (CoreShowChannels lists it); `announce` also emits Newchannel.
        Keyword fields: context ("onecall-hotline"), exten ("120"), state ("Up" or a number),
        application ("AGI"), application_data, caller_id_num, caller_id_name, language,
        priority, bridge_id."""
        record = self._make_channel(channel, uniqueid, linkedid, **fields)
        with self._cond:
            self._channels[record.uniqueid] = record
            self._cond.notify_all()
        if announce:
            self.emit([("Event", "Newchannel"), *record.block()])
        return dataclasses.replace(record)

    def _make_channel(self, channel: str, uniqueid: str | None = None, linkedid: str | None = None, *,
                      context: str = "onecall-hotline", exten: str = "120", state: int | str = "Up",
                      application: str = "AGI", application_data: str = "", caller_id_num: str = "<unknown>",
                      caller_id_name: str = "<unknown>", language: str = "en", priority: int = 1,
                      bridge_id: str = "") -> FakeChannel:
        uniqueid = uniqueid or self.new_uniqueid()
        return FakeChannel(channel=channel, uniqueid=uniqueid, linkedid=linkedid or uniqueid,
                           state=_state_number(state), caller_id_num=caller_id_num, caller_id_name=caller_id_name,
                           language=language, context=context, exten=exten, priority=priority,
                           application=application, application_data=application_data, bridge_id=bridge_id)

    def set_channel_state(self, uniqueid: str, state: int | str) -> None:
        """Change a channel's state and emit Newstate."""
        with self._cond:
            record = self._channels[uniqueid]
            record.state = _state_number(state)
            block = record.block()
        self.emit([("Event", "Newstate"), *block])

    def remove_channel(self, uniqueid: str, cause: int = 16, emit_hangup: bool = True) -> FakeChannel:
        """The channel hangs up: it leaves `channels` and (by default) a Hangup event goes out."""
        with self._cond:
            record = self._channels.pop(uniqueid)
            self._cond.notify_all()
        if emit_hangup:
            self.emit(self._hangup_event(record, cause))
        return record

    def emit(self, event: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Send an event to every logged-in session whose mask lets it through. Privilege is
        added from the known classes when missing, and Timestamp when timestampevents is on."""
        pairs = self._complete_event(_pairs(event))
        self._call(self._broadcast, pairs)

    def send_raw(self, data: bytes, logged_in_only: bool = True) -> None:
        """Write bytes as they are to the sessions (malformed frames, partial writes)."""
        def write() -> None:
            for session in self._session_list():
                if session.logged_in or not logged_in_only:
                    session.write(data)
        self._call(write)

    def emit_device_state(self, device: str, state: str) -> None:
        """`Event: DeviceStateChange` (Device, State), e.g. ("PJSIP/1001", "NOT_INUSE")."""
        if state not in DEVICE_STATES:
            raise ValueError(f"unknown device state {state!r}; one of {DEVICE_STATES}")
        self.emit([("Event", "DeviceStateChange"), ("Device", device), ("State", state)])

    def emit_contact_status(self, aor: str, status: str, *, uri: str | None = None,
                            endpoint: str | None = None, roundtrip_usec: int | str | None = None) -> None:
        """res_pjsip `Event: ContactStatus` (URI, ContactStatus, AOR, EndpointName,
        RoundtripUsec), as in ispbx_asterisk22/ami_debug_unanswered_call.log."""
        if status not in CONTACT_STATUSES:
            raise ValueError(f"unknown contact status {status!r}; one of {CONTACT_STATUSES}")
        if roundtrip_usec is None:
            roundtrip_usec = 1543 if status == "Reachable" else 0
        self.emit([("Event", "ContactStatus"), ("URI", uri or f"sip:{aor}@127.0.0.1:5060"),
                   ("ContactStatus", status), ("AOR", aor), ("EndpointName", endpoint or aor),
                   ("RoundtripUsec", roundtrip_usec)])

    def restart(self, new_channels: list[Mapping[str, Any]] | None = None, down_for: float = 0.3,
                reset_first_connection: bool = False, wait: bool = False) -> None:
        """`core restart now`: Hangup for every live channel, `Event: Shutdown`, every socket
        closed, the port refusing connections for `down_for` seconds (the first connection
        reset when asked, as in 06b), then listening again on the same port with
        `new_channels` (add_channel keyword dicts) as the only channels. Returns once the
        sockets are closed; `wait=True` returns once it listens again."""
        if self._on_loop():
            raise RuntimeError("restart() waits for the loop: call it from a test or a callback thread")
        channels = []
        for spec in new_channels or []:
            spec = dict(spec)
            channels.append(self._make_channel(spec.pop("channel"), spec.pop("uniqueid", None),
                                               spec.pop("linkedid", None), **spec))
        self._call(lambda: self._spawn(self._restart(channels, down_for, reset_first_connection)))
        with self._cond:
            if not self._cond.wait_for(lambda: not self._up and not self._sessions, 10):
                raise AssertionError("FakeAsterisk did not go down")
        if wait:
            self.wait_up(down_for + 10)

    def drop(self) -> None:
        """Cut every client connection without a word (a network failure); keep listening."""
        def cut() -> None:
            for session in self._session_list():
                session.writer.transport.abort()
        self._call(cut)

    # -- events ------------------------------------------------------------------------

    def _complete_event(self, pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        keys = [key.lower() for key, _ in pairs]
        if "event" not in keys:
            raise ValueError("an event needs an Event header")
        name = pairs[keys.index("event")][1]
        rest = [(k, v) for k, v in pairs if k.lower() not in ("event", "privilege", "timestamp")]
        head = [("Event", name)]
        privilege = dict((k.lower(), v) for k, v in pairs).get("privilege") or EVENT_PRIVILEGE.get(str(name).lower())
        if privilege:
            head.append(("Privilege", privilege))
        timestamp = dict((k.lower(), v) for k, v in pairs).get("timestamp")
        if timestamp is None and self.timestamp_events and privilege:
            timestamp = f"{time.time():.6f}"
        if timestamp is not None:
            head.append(("Timestamp", timestamp))
        return head + rest

    def _broadcast(self, pairs: list[tuple[str, Any]]) -> None:
        privilege = next((v for k, v in pairs if k == "Privilege"), None)
        data = format_message(pairs)
        for session in self._session_list():
            if session.logged_in and session.wants(privilege):
                session.write(data)

    def _event(self, pairs: list[tuple[str, Any]]) -> None:
        self._broadcast(self._complete_event(pairs))

    def _hangup_event(self, record: FakeChannel, cause: int) -> list[tuple[str, Any]]:
        return [("Event", "Hangup"), *record.block(), ("Cause", cause), ("Cause-txt", cause_text(cause))]

    # -- sessions ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(writer)
        with self._cond:
            self._sessions.append(session)
            self._cond.notify_all()
        self._tasks.add(asyncio.current_task())
        try:
            session.write(f"Asterisk Call Manager/{AMI_VERSION}\r\n".encode())
            while True:
                message = await self._read_message(reader)
                if message is None:
                    break
                with self._cond:
                    self._actions.append(message)
                    self._cond.notify_all()
                if not await self._dispatch(session, message):
                    break
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:  # stop(): end quietly, the stream's callback reads our result
            pass
        except Exception as exc:  # a test callback failed: stop() re-raises it
            self.errors.append(exc)
        finally:
            self._tasks.discard(asyncio.current_task())
            with self._cond:
                if session in self._sessions:
                    self._sessions.remove(session)
                self._cond.notify_all()
            writer.close()

    @staticmethod
    async def _read_message(reader: asyncio.StreamReader) -> Headers | None:
        """One message (lines up to a blank line; CRLF or LF); None at end of stream."""
        lines: list[str] = []
        while True:
            try:
                raw = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                return None
            if not raw:
                return None
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line:
                lines.append(line)
            elif lines:
                return parse_message(lines)

    def _reply(self, session: _Session, action: Headers, response: str, message: str | None = None, *,
               eventlist: str | None = None, extra: Iterable[tuple[str, Any]] = ()) -> None:
        pairs: list[tuple[str, Any]] = [("Response", response)]
        if action.first("ActionID"):
            pairs.append(("ActionID", action.first("ActionID")))
        if eventlist is not None:
            pairs.append(("EventList", eventlist))
        if message is not None:
            pairs.append(("Message", message))
        pairs.extend(extra)
        session.write(format_message(pairs))

    async def _dispatch(self, session: _Session, action: Headers) -> bool:
        """Answer one action; False closes the session."""
        name = action.first("Action").strip().lower()
        if not name:
            self._reply(session, action, "Error", "Missing action in request")
            return True
        if not session.logged_in and name not in ("login", "logoff"):
            self._reply(session, action, "Error", "Permission denied")
            return True
        custom = {key.lower(): handler for key, handler in self.handlers.items()}.get(name)
        if custom is not None:
            replies = await self._in_worker(custom, action)
            for reply in replies or []:
                session.write(format_message(self._with_action_id(_pairs(reply), action)))
            return True
        handler = getattr(self, f"_action_{name}", None)
        if handler is None:
            self._reply(session, action, "Error", "Invalid/unknown command")
            return True
        return await handler(session, action)

    @staticmethod
    def _with_action_id(pairs: list[tuple[str, Any]], action: Headers) -> list[tuple[str, Any]]:
        if action.first("ActionID") and not any(k.lower() == "actionid" for k, _ in pairs):
            pairs = pairs[:1] + [("ActionID", action.first("ActionID"))] + pairs[1:]
        return pairs

    # -- actions -----------------------------------------------------------------------

    async def _action_login(self, session: _Session, action: Headers) -> bool:
        if session.logged_in:
            self._reply(session, action, "Success", "Already authenticated")
            return True
        if (action.first("Username").lower() != self.username.lower()
                or action.first("Secret") != self.secret):
            await asyncio.sleep(self.login_failure_delay)
            self._reply(session, action, "Error", "Authentication failed")
            return False
        events = action.first("Events") if "Events" in action else None
        session.logged_in, session.username, session.events = True, action.first("Username"), events
        session.mask = event_mask(events)
        with self._cond:
            self.login_event_masks.append(events)
            self.logins += 1
            self._cond.notify_all()
        self._reply(session, action, "Success", "Authentication accepted")
        if session.wants("system,all"):
            uptime = int(time.monotonic() - self._boot)
            session.write(format_message([("Event", "FullyBooted"), ("Privilege", "system,all"),
                                          ("Uptime", uptime), ("LastReload", uptime),
                                          ("Status", "Fully Booted")]))
        if self.security_events:
            self._event(self._successful_auth(session))
        return True

    def _successful_auth(self, session: _Session) -> list[tuple[str, Any]]:
        now = time.time()
        tv = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}+0000"
        local = session.writer.get_extra_info("sockname") or ("127.0.0.1", self.port)
        peer = session.peer or ("127.0.0.1", 0)
        return [("Event", "SuccessfulAuth"), ("EventTV", tv), ("Severity", "Informational"), ("Service", "AMI"),
                ("EventVersion", 1), ("AccountID", session.username), ("SessionID", f"0x{id(session):x}"),
                ("LocalAddress", f"IPV4/TCP/{local[0]}/{local[1]}"),
                ("RemoteAddress", f"IPV4/TCP/{peer[0]}/{peer[1]}"), ("UsingPassword", 0), ("SessionTV", tv)]

    async def _action_logoff(self, session: _Session, action: Headers) -> bool:
        self._reply(session, action, "Goodbye", "Thanks for all the fish.")
        return False

    async def _action_ping(self, session: _Session, action: Headers) -> bool:
        self._reply(session, action, "Success", extra=[("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])
        return True

    async def _action_coreshowchannels(self, session: _Session, action: Headers) -> bool:
        with self._cond:
            live = [dataclasses.replace(channel) for channel in self._channels.values()]
        self._reply(session, action, "Success", "Channels will follow", eventlist="start")
        action_id = [("ActionID", action.first("ActionID"))] if action.first("ActionID") else []
        for channel in live:
            session.write(format_message([
                ("Event", "CoreShowChannel"), *action_id, *channel.block(),
                ("Application", channel.application), ("ApplicationData", channel.application_data),
                ("Duration", channel.duration()), ("BridgeId", channel.bridge_id)]))
        session.write(format_message([("Event", "CoreShowChannelsComplete"), *action_id,
                                      ("EventList", "Complete"), ("ListItems", len(live))]))
        return True

    async def _action_hangup(self, session: _Session, action: Headers) -> bool:
        name = action.first("Channel")
        if not name:
            self._reply(session, action, "Error", "No channel specified")
            return True
        cause = int(action.first("Cause")) if action.first("Cause").strip().isdigit() else 16
        with self._cond:
            # By name, then by Uniqueid, as manager.c action_hangup's ast_channel_get_by_name does
            # (channelstorage: get_by_name_prefix_or_uniqueid).
            record = next((ch for ch in self._channels.values() if ch.channel.lower() == name.lower()),
                          self._channels.get(name))
            if record is not None:
                del self._channels[record.uniqueid]
                self._cond.notify_all()
        if record is None:
            self._reply(session, action, "Error", "No such channel")
            return True
        self._reply(session, action, "Success", "Channel Hungup")
        self._event([("Event", "SoftHangupRequest"), *record.block(), ("Cause", cause)])
        self._event(self._hangup_event(record, cause))
        return True

    async def _action_originate(self, session: _Session, action: Headers) -> bool:
        requested = action.first("Channel")
        if not requested:
            self._reply(session, action, "Error", "Channel not specified")
            return True
        if "/" not in requested:
            self._reply(session, action, "Error", "Invalid channel")
            return True
        outcome = await self._decide(action)
        if outcome.result == "error":
            self._reply(session, action, "Error", "Originate failed")
            return True
        if action.first("Async").lower() in _TRUE:
            self._reply(session, action, "Success", "Originate successfully queued")
            self._spawn(self._originate_then(action, outcome))
            return True
        answered = await self._originate(action, outcome)
        if answered is None:
            self._reply(session, action, "Error", "Originate failed")
        else:
            self._reply(session, action, "Success", "Originate successfully queued")
            await self._after_answer(outcome, answered)
        return True

    async def _decide(self, action: Headers) -> OriginateOutcome:
        chosen = None if self.on_originate is None else await self._in_worker(self.on_originate, action)
        if chosen is None:
            return OriginateOutcome()
        return chosen if isinstance(chosen, OriginateOutcome) else OriginateOutcome(str(chosen))

    async def _originate_then(self, action: Headers, outcome: OriginateOutcome) -> None:
        answered = await self._originate(action, outcome)
        if answered is not None:
            await self._after_answer(outcome, answered)

    async def _after_answer(self, outcome: OriginateOutcome, answered: FakeChannel) -> None:
        if outcome.then is not None:
            await self._in_worker(outcome.then, answered)

    async def _originate(self, action: Headers, outcome: OriginateOutcome) -> FakeChannel | None:
        """Dial, ring, then answer or fail; emits the events and the OriginateResponse."""
        requested = action.first("Channel")
        resource = requested.partition("/")[2]
        cid_num, cid_name = parse_callerid(action.first("CallerID"))
        channel_id = action.first("ChannelId")
        is_async = action.first("Async").lower() in _TRUE  # only an async Originate has an OriginateResponse
        if outcome.result == "fail":
            await asyncio.sleep(outcome.delay)
            if is_async:
                self._event(self._originate_response(action, "Failure", requested, 0, channel_id or "<unknown>"))
            return None
        record = self._dialled_channel(action, outcome, requested, cid_num, cid_name)
        self._event([("Event", "Newchannel"), *record.block()])
        self._event([("Event", "DialBegin"), *record.block("Dest"), ("DialString", resource)])
        if outcome.result in ("answer", "no-answer"):
            self._set_state(record, 5)
            self._event([("Event", "DialState"), *record.block("Dest"), ("DialStatus", "RINGING")])
        if not await self._rings_until_decided(record, outcome.delay):
            # Hung up while ringing (an AMI Hangup, or remove_channel): pbx_dial_reason gives
            # AST_CONTROL_HANGUP (Reason 1) for a dial ended by a normal hang-up. Its Hangup
            # event has gone out already; no DialEnd is sent (none captured for this case).
            if is_async:
                self._event(self._originate_response(action, "Failure", requested, 1, channel_id or "<unknown>"))
            return None
        if outcome.result == "answer":
            self._set_state(record, 6)
            self._event([("Event", "DialEnd"), *record.block("Dest"), ("DialStatus", "ANSWER")])
            if is_async:
                self._event(self._originate_response(action, "Success", record.channel, 4, record.uniqueid))
            return dataclasses.replace(record)
        dial_status, reason, cause = _FAILED_DIALS[outcome.result]
        self._event([("Event", "DialEnd"), *record.block("Dest"), ("DialStatus", dial_status)])
        with self._cond:
            self._channels.pop(record.uniqueid, None)
            self._cond.notify_all()
        self._event(self._hangup_event(record, outcome.hangup_cause if outcome.hangup_cause is not None else cause))
        if is_async:
            self._event(self._originate_response(action, "Failure", requested, reason, channel_id or "<unknown>"))
        return None

    async def _rings_until_decided(self, record: FakeChannel, delay: float) -> bool:
        """Ring for `delay` seconds; False as soon as the channel is hung up meanwhile."""
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        while True:
            with self._cond:
                if self._channels.get(record.uniqueid) is not record:
                    return False
            left = until - loop.time()
            if left <= 0:
                return True
            await asyncio.sleep(min(left, 0.02))

    def _dialled_channel(self, action: Headers, outcome: OriginateOutcome, requested: str,
                         cid_num: str, cid_name: str) -> FakeChannel:
        suffix = f"-{next(self._chan_seq):08x}" + (";1" if requested.lower().startswith("local/") else "")
        uniqueid = action.first("ChannelId") or self.new_uniqueid()
        record = FakeChannel(
            channel=requested + suffix, uniqueid=uniqueid, linkedid=uniqueid, state=0,
            caller_id_num=cid_num or "<unknown>", caller_id_name=cid_name or "<unknown>",
            connected_line_num=cid_num or "<unknown>", connected_line_name=cid_name or "<unknown>",
            account_code=action.first("Account"), context=action.first("Context") or "default",
            exten=action.first("Exten") or "s", priority=int(action.first("Priority") or 1),
            application=outcome.application or action.first("Application"),
            application_data=outcome.application_data or action.first("Data"),
            variables=_parse_variables(action.all("Variable")))
        with self._cond:
            self._channels[uniqueid] = record
            self._cond.notify_all()
        return record

    def _set_state(self, record: FakeChannel, state: int) -> None:
        with self._cond:
            record.state = state
        self._event([("Event", "Newstate"), *record.block()])

    @staticmethod
    def _originate_response(action: Headers, response: str, channel: str, reason: int,
                            uniqueid: str) -> list[tuple[str, Any]]:
        cid_num, cid_name = parse_callerid(action.first("CallerID"))
        pairs: list[tuple[str, Any]] = [("Event", "OriginateResponse")]
        if action.first("ActionID"):
            pairs.append(("ActionID", action.first("ActionID")))
        pairs += [("Response", response), ("Channel", channel)]
        if action.first("Application"):
            pairs += [("Application", action.first("Application")), ("Data", action.first("Data"))]
        else:
            pairs += [("Context", action.first("Context")), ("Exten", action.first("Exten"))]
        return pairs + [("Reason", reason), ("Uniqueid", uniqueid), ("CallerIDNum", cid_num or "<unknown>"),
                        ("CallerIDName", cid_name or "<unknown>")]

    # -- restart -----------------------------------------------------------------------

    async def _restart(self, new_channels: list[FakeChannel], down_for: float, reset_first: bool) -> None:
        began = asyncio.get_running_loop().time()
        with self._cond:
            dying = list(self._channels.values())
            self._channels.clear()
            self._cond.notify_all()
        for record in dying:  # 06-core-restart: SoftHangupRequest Cause 4 (shutdown), Hangup Cause 0
            self._event([("Event", "SoftHangupRequest"), *record.block(), ("Cause", 4)])
            self._event(self._hangup_event(record, 0))
        self._event([("Event", "Shutdown"), ("Shutdown", "Cleanly"), ("Restart", "True")])
        await self._close_listener()
        sessions = self._session_list()
        for session in sessions:
            session.writer.close()
        await asyncio.gather(*(asyncio.wait_for(s.writer.wait_closed(), 1) for s in sessions),
                             return_exceptions=True)
        resetter = self._reset_listener() if reset_first else None
        with self._cond:  # down now; a handler may still be about to notice its EOF
            self._sessions = [s for s in self._sessions if s not in sessions]
            self._cond.notify_all()
        if resetter is not None:
            await self._reset_one_connection(resetter, began + down_for)
        await asyncio.sleep(max(0.0, began + down_for - asyncio.get_running_loop().time()))
        self._boot = time.monotonic()
        with self._cond:
            self._channels.update((record.uniqueid, record) for record in new_channels)
        await self._listen()

    def _reset_listener(self) -> socket.socket | None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setblocking(False)
        try:
            listener.bind((self.host, self.port))
            listener.listen(1)
        except OSError:
            listener.close()
            return None
        return listener

    async def _reset_one_connection(self, listener: socket.socket, until: float) -> None:
        """Accept one connection and reset it (ECONNRESET, as the first reconnect in 06b)."""
        loop = asyncio.get_running_loop()
        try:
            connection, _ = await asyncio.wait_for(loop.sock_accept(listener), max(0.0, until - loop.time()))
        except (asyncio.TimeoutError, OSError):
            return
        finally:
            listener.close()
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
