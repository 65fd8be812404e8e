"""A fake Asterisk channel that runs `AGI(agi://host:port/script)` against a FastAGI server.

It does what Asterisk's res/res_agi.c does on a FastAGI connection
(`../shared/protocol/fastagi/agi_protocol.md`; real environment blocks in
`fastagi/panoramisk_fastagi_env.txt` and `ami/asterisk22-local/08-fastagi-server-side.txt`):

- On connect it sends the `agi_*` environment, one `name: value` line each (LF only), in
  setup_env's order, then a blank line.
- It reads one command per line (only the final LF is stripped: a CR stays part of the
  command, as in res_agi.c), splits it like `parse_args` (double quotes group words, a
  backslash escapes the next character), matches the command words without regard to case
  and answers with one line: `200 result=...`, `510 Invalid or unknown command`, `511
  Command Not Permitted on a dead channel or intercept routine`, or the multi-line
  `520-Invalid command syntax.  Proper usage follows:` ... `520 End of proper usage.`
  that a build with XML documentation (the default) sends for wrong usage
  (`xml_docs=False` gives the one-line `520 Invalid command syntax.  Proper usage not
  available.`).
- The caller's keypad is a queue filled by `press()`: STREAM FILE, GET OPTION and SAY
  consume a queued key only when it is one of their escape digits; WAIT FOR DIGIT and GET
  DATA take any key. Waiting for keys lasts at most `digit_wait_cap` seconds so tests stay
  fast (a negative WAIT FOR DIGIT timeout waits until a key or a hang-up, as in Asterisk).
- Hang-up (run_agi): when the caller hangs up while no command runs, `HANGUP\\n` goes to the
  server at once. When it happens during a command (a blocking EXEC such as ConfBridge),
  that command first answers `200 result=-1`, then `HANGUP\\n` follows: run_agi only
  notices the hang-up back in its idle loop. From then on the channel is dead: EXEC, GET
  [FULL] VARIABLE, SET VARIABLE, DATABASE, VERBOSE and NOOP still run, every other command
  gets 511. A server's own `HANGUP` command is answered `200 result=1` and followed by the
  same `HANGUP\\n`. Asterisk waits for the server to close the connection (unless
  AGIEXITONHANGUP, here `exit_on_hangup=True`), then writes a last `HANGUP\\n` as it
  closes its side.

Commands the fake does not model (RECORD FILE, RECEIVE/SEND, SPEECH, GOSUB, SAY
DATE/TIME, CONTROL STREAM FILE, TDD MODE, ASYNCAGI BREAK) are answered 510 as unknown.
The channel runs on a thread of its own with a blocking socket; every method is thread-safe.
"""
from __future__ import annotations

import collections
import itertools
import re
import socket
import threading
import time
from typing import Any, Callable, Iterable

DTMF_KEYS = set("0123456789*#ABCD")
DEFAULT_BLOCKING_APPS = ("ConfBridge", "MusicOnHold", "Wait", "Dial")
ENV_KEYS = ("agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_language", "agi_type",
            "agi_uniqueid", "agi_version", "agi_callerid", "agi_calleridname", "agi_callingpres",
            "agi_callingani2", "agi_callington", "agi_callingtns", "agi_dnid", "agi_rdnis", "agi_context",
            "agi_extension", "agi_priority", "agi_enhanced", "agi_accountcode", "agi_threadid")

REPLY_UNKNOWN = "510 Invalid or unknown command"
REPLY_DEAD = "511 Command Not Permitted on a dead channel or intercept routine"
REPLY_NO_USAGE = "520 Invalid command syntax.  Proper usage not available."

_uniqueids = itertools.count(1)
_threadids = itertools.count(140250000000000, 4096)
_USAGE = object()  # a handler's "wrong usage" answer


def parse_args(line: str) -> list[str]:
    """Split a command line into words exactly as res_agi.c parse_args does."""
    words: list[list[str]] = []
    quoted = escaped = False
    whitespace = True
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                words.append([])
                whitespace = False
            continue
        if char in " \t" and not quoted and not escaped:
            whitespace = True
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            words.append([])
            whitespace = False
        words[-1].append(char)
        escaped = False
    return ["".join(word) for word in words]


class FakeAgiChannel:
    """One call's channel talking FastAGI to a server under test."""

    def __init__(self, host: str, port: int, script: str = "hotline", uniqueid: str | None = None,
                 channel: str = "PJSIP/citizen-00000001", callerid: str = "+821012345678", language: str = "ko",
                 context: str = "onecall-hotline", extension: str = "120", variables: dict | None = None,
                 keys: str = "", *, calleridname: str = "unknown", dnid: str | None = None, priority: int = 1,
                 accountcode: str = "", args: Iterable[str] = (), version: str = "22.10.1",
                 blocking_apps: Iterable[str] = DEFAULT_BLOCKING_APPS, digit_wait_cap: float | None = 0.05,
                 missing_files: Iterable[str] = (), xml_docs: bool = True, sighup: bool = True,
                 exit_on_hangup: bool = False, connect_timeout: float = 2.0,
                 source_address: str | None = None) -> None:
        self.host, self.port, self.script = host, port, script
        self.uniqueid = uniqueid or f"{int(time.time())}.{next(_uniqueids)}"
        self.channel, self.callerid, self.calleridname = channel, callerid, calleridname
        self.language, self.context, self.extension, self.priority = language, context, extension, priority
        self.dnid = dnid if dnid is not None else extension
        self.accountcode, self.args, self.version = accountcode, list(args), version
        self.threadid = str(next(_threadids))
        self.variables: dict[str, str] = dict(variables or {})
        self.database: dict[tuple[str, str], str] = {}
        self.blocking_apps = {app.lower() for app in blocking_apps}
        self.digit_wait_cap = digit_wait_cap
        self.missing_files = set(missing_files)
        self.xml_docs, self.sighup, self.exit_on_hangup = xml_docs, sighup, exit_on_hangup
        self.connect_timeout = connect_timeout
        self.source_address = source_address  # connect from this local address (e.g. 127.0.0.2)
        # what the test reads
        self.commands: list[str] = []
        self.replies: list[str] = []
        self.played: list[str] = []
        self.said: list[tuple[str, str]] = []
        self.executed: list[tuple[str, str]] = []
        self.log: list[tuple] = []
        self.answered = False
        self.music_on = False
        self.music_class: str | None = None
        self.hung_up = False
        self.closed = False
        # internals
        self._keys: collections.deque[str] = collections.deque()
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._busy = False
        self._dead = False
        self._closing = False
        self._app_running: str | None = None
        self._leave_result: int | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.press(keys)

    # -- lifecycle ---------------------------------------------------------------------

    def environment(self) -> list[tuple[str, str]]:
        """The agi_* lines this channel sends, in res_agi.c setup_env's order."""
        request = f"agi://{self.host}:{self.port}/{self.script}" if self.script else f"agi://{self.host}:{self.port}"
        pairs = [("agi_network", "yes")]
        if self.script:
            pairs.append(("agi_network_script", self.script))
        pairs += [("agi_request", request), ("agi_channel", self.channel), ("agi_language", self.language),
                  ("agi_type", self.channel.partition("/")[0]), ("agi_uniqueid", self.uniqueid),
                  ("agi_version", self.version), ("agi_callerid", self.callerid or "unknown"),
                  ("agi_calleridname", self.calleridname or "unknown"), ("agi_callingpres", "0"),
                  ("agi_callingani2", "0"), ("agi_callington", "0"), ("agi_callingtns", "0"),
                  ("agi_dnid", self.dnid or "unknown"), ("agi_rdnis", "unknown"), ("agi_context", self.context),
                  ("agi_extension", self.extension), ("agi_priority", str(self.priority)), ("agi_enhanced", "0.0"),
                  ("agi_accountcode", self.accountcode), ("agi_threadid", self.threadid)]
        return pairs + [(f"agi_arg_{n}", arg) for n, arg in enumerate(self.args, 1)]

    def start(self) -> "FakeAgiChannel":
        """Connect to the FastAGI server and send the environment block."""
        if self._sock is not None:
            raise RuntimeError("FakeAgiChannel already started")
        source = (self.source_address, 0) if self.source_address else None
        self._sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout,
                                              source_address=source)
        self._sock.settimeout(None)
        block = "".join(f"{key}: {value}\n" for key, value in self.environment()) + "\n"
        self._send(block)
        self._thread = threading.Thread(target=self._run, name=f"fake-agi-{self.uniqueid}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Asterisk ends the AGI from its side (and wakes a blocked command)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._shutdown_socket()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def __enter__(self) -> "FakeAgiChannel":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- the caller --------------------------------------------------------------------

    def press(self, keys: str) -> None:
        """Queue DTMF keys the caller presses (0-9, *, #, A-D)."""
        keys = keys.upper()
        unknown = set(keys) - DTMF_KEYS
        if unknown:
            raise ValueError(f"not DTMF keys: {sorted(unknown)}")
        with self._cond:
            self._keys.extend(keys)
            self._cond.notify_all()

    @property
    def pending_keys(self) -> str:
        with self._cond:
            return "".join(self._keys)

    def hangup(self) -> None:
        """The caller hangs up. Idle: `HANGUP` goes out now; during a command: after its reply."""
        with self._cond:
            if self.hung_up:
                return
            self.hung_up = True
            self.log.append(("hangup", "caller"))
            if not self._busy and not self.closed:
                self._go_dead_locked()
            self._cond.notify_all()

    def leave_application(self, result: int = 0, timeout: float = 5.0) -> str:
        """The channel leaves the blocking application it is in (waiting until it is in one);
        the EXEC answers `200 result=<result>`. Returns the application's name."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._app_running is not None and self._leave_result is None,
                                       timeout):
                raise AssertionError(f"no blocking application running within {timeout}s; "
                                     f"executed={self.executed}")
            self._leave_result = result
            self._cond.notify_all()
            return self._app_running

    @property
    def current_application(self) -> str | None:
        with self._cond:
            return self._app_running

    # -- waiting -----------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until predicate() is truthy (re-checked on every change); returns its value."""
        with self._cond:
            value = self._cond.wait_for(predicate, timeout)
            if value:
                return value
            raise AssertionError(f"condition not met within {timeout}s: {self._summary()}")

    def wait_played(self, file_substring: str, timeout: float = 5.0) -> str:
        return self.wait_for(lambda: next((f for f in self.played if file_substring in f), None), timeout)

    def wait_executed(self, app: str, timeout: float = 5.0) -> tuple[str, str]:
        return self.wait_for(lambda: next((e for e in self.executed if e[0].lower() == app.lower()), None), timeout)

    def wait_command(self, prefix: str, timeout: float = 5.0) -> str:
        return self.wait_for(lambda: next((c for c in self.commands if c.upper().startswith(prefix.upper())), None),
                             timeout)

    def wait_closed(self, timeout: float = 5.0) -> None:
        self.wait_for(lambda: self.closed, timeout)

    def _summary(self) -> str:
        return (f"commands={self.commands[-8:]} played={self.played} executed={self.executed} "
                f"pending_keys={''.join(self._keys)!r} hung_up={self.hung_up} closed={self.closed}")

    # -- socket ------------------------------------------------------------------------

    def _send(self, text: str) -> None:
        if self._sock is None:
            return
        with self._write_lock:
            try:
                self._sock.sendall(text.encode("utf-8"))
            except OSError:
                pass

    def _shutdown_socket(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self) -> None:
        reader = self._sock.makefile("rb")
        try:
            for raw in iter(reader.readline, b""):
                if self._closing:
                    break
                self._handle(raw.decode("utf-8", "replace"))
        except OSError:
            pass
        finally:
            reader.close()
            self._finish()

    def _finish(self) -> None:
        """The script is done (the server closed): a last HANGUP, then close, as run_agi does."""
        with self._cond:
            if self.sighup and not self._closing:
                self._send("HANGUP\n")
            self._shutdown_socket()
            self._sock.close()
            self.closed = True
            self._cond.notify_all()

    def _go_dead_locked(self) -> None:
        self._dead = True
        if self.sighup:
            self._send("HANGUP\n")
        if self.exit_on_hangup:
            self._closing = True
            self._shutdown_socket()

    # -- commands ----------------------------------------------------------------------

    def _handle(self, line: str) -> None:
        if line.endswith("\n"):
            line = line[:-1]
        with self._cond:
            self.commands.append(line)
            self._busy = True
            self._cond.notify_all()
        reply = self._execute(parse_args(line))
        with self._cond:
            self._send(reply + "\n")
            self.replies.append(reply)
            self._busy = False
            if self.hung_up and not self._dead:
                self._go_dead_locked()
            self._cond.notify_all()

    def _execute(self, argv: list[str]) -> str:
        found = self._find(argv)
        if found is None:
            return REPLY_UNKNOWN
        words, handler, runs_dead = found
        if self._dead and not runs_dead:
            return REPLY_DEAD
        result = handler(self, argv)
        if result is _USAGE:
            return self._usage(words)
        return result

    @classmethod
    def _find(cls, argv: list[str]):
        lowered = [word.lower() for word in argv]
        for words, handler, runs_dead in cls.COMMANDS:
            if len(lowered) >= len(words) and tuple(lowered[:len(words)]) == words:
                return words, handler, runs_dead
        return None

    def _usage(self, words: tuple[str, ...]) -> str:
        if not self.xml_docs:
            return REPLY_NO_USAGE
        synopsis, syntax = USAGE[words]
        return ("520-Invalid command syntax.  Proper usage follows:\n"
                f"{synopsis}\nUsage: {syntax}\n520 End of proper usage.")

    # keypad ----------------------------------------------------------------------------

    def _take_escape(self, escape_digits: str) -> str | None:
        with self._cond:
            if self._keys and self._keys[0] in escape_digits.upper():
                self._cond.notify_all()
                return self._keys.popleft()
        return None

    def _wait_key(self, milliseconds: int, accept: str | None = None) -> str | int | None:
        """A key (any, or one of `accept`), None on timeout, -1 on hang-up."""
        if milliseconds < 0:
            timeout = None
        else:
            timeout = milliseconds / 1000
            if self.digit_wait_cap is not None:
                timeout = min(timeout, self.digit_wait_cap)

        def ready() -> bool:
            head_ok = bool(self._keys) and (accept is None or self._keys[0] in accept.upper())
            return head_ok or self.hung_up or self._closing

        with self._cond:
            self._cond.wait_for(ready, timeout)
            if self.hung_up or self._closing:
                return -1
            if ready():
                self._cond.notify_all()
                return self._keys.popleft()
            return None

    # variables -------------------------------------------------------------------------

    def _lookup(self, name: str) -> str | None:
        if name in self.variables:
            return self.variables[name]
        for key, value in self.variables.items():
            if key.lower() == name.lower():
                return value
        builtins = {"CHANNEL": self.channel, "UNIQUEID": self.uniqueid, "CONTEXT": self.context,
                    "EXTEN": self.extension, "PRIORITY": str(self.priority), "CALLERID(NUM)": self.callerid,
                    "CALLERID(NAME)": "" if self.calleridname == "unknown" else self.calleridname,
                    "CHANNEL(NAME)": self.channel, "CHANNEL(UNIQUEID)": self.uniqueid,
                    "CHANNEL(LANGUAGE)": self.language, "CHANNEL(CHANNELTYPE)": self.channel.partition("/")[0]}
        return builtins.get(name.upper())

    def _substitute(self, expression: str) -> str:
        return re.sub(r"\$\{([^{}]*)\}", lambda m: self._lookup(m.group(1)) or "", expression)

    def _is_me(self, name: str) -> bool:
        return name.lower() == self.channel.lower()

    # handlers: each takes argv and returns the reply line (or _USAGE) ---------------------

    def _answer(self, argv):
        with self._cond:
            self.answered = True
            self.log.append(("answer",))
        return "200 result=0"

    def _channel_status(self, argv):
        if len(argv) > 3:
            return _USAGE
        if len(argv) == 3 and not self._is_me(argv[2]):
            return "200 result=-1"
        return "200 result=6" if self.answered else "200 result=4"

    def _stream_file(self, argv):
        if len(argv) not in (4, 5):
            return _USAGE
        offset = int(argv[4]) if len(argv) == 5 and argv[4].isdigit() else 0
        if argv[2] in self.missing_files:
            return f"200 result=-1 endpos={offset}"
        self._played(argv[2])
        key = self._take_escape(argv[3])
        if key is not None:
            return f"200 result={ord(key)} endpos={offset + 4000}"
        return f"200 result=0 endpos={offset + 16000}"

    def _get_option(self, argv):
        if len(argv) not in (4, 5):
            return _USAGE
        if argv[2] in self.missing_files:
            return "200 result=-1 endpos=0"
        self._played(argv[2])
        key = self._take_escape(argv[3])
        if key is not None:
            return f"200 result={ord(key)} endpos=4000"
        timeout = int(argv[4]) if len(argv) == 5 and argv[4].lstrip("-").isdigit() else 5000
        key = self._wait_key(timeout, accept=argv[3]) if argv[3] else None
        if key == -1:
            return "200 result=-1 endpos=16000"
        return f"200 result={ord(key) if key else 0} endpos=16000"

    def _get_data(self, argv):
        if len(argv) < 3:
            return _USAGE
        if argv[2] in self.missing_files:
            return "200 result=-1"
        timeout = int(argv[3]) if len(argv) >= 4 and argv[3].isdigit() else 0
        maxdigits = int(argv[4]) if len(argv) >= 5 and argv[4].isdigit() else 1024
        self._played(argv[2])
        digits = ""
        while len(digits) < maxdigits:
            key = self._wait_key(timeout or 5000)
            if key == -1:
                return "200 result=-1"
            if key is None:
                return f"200 result={digits} (timeout)"
            if key == "#":
                break
            digits += key
        return f"200 result={digits}"

    def _wait_for_digit(self, argv):
        if len(argv) != 4 or not argv[3].lstrip("-").isdigit():
            return _USAGE
        key = self._wait_key(int(argv[3]))
        if key == -1:
            return "200 result=-1"
        return f"200 result={ord(key) if key else 0}"

    def _say(self, kind: str, argv) -> str:
        with self._cond:
            self.said.append((kind, argv[2]))
        key = self._take_escape(argv[3])
        return f"200 result={ord(key) if key else 0}"

    def _say_digits(self, argv):
        if len(argv) != 4 or not argv[2].isdigit():
            return _USAGE
        return self._say("digits", argv)

    def _say_number(self, argv):
        if len(argv) not in (4, 5) or not argv[2].lstrip("-").isdigit():
            return _USAGE
        return self._say("number", argv)

    def _say_alpha(self, argv):
        if len(argv) != 4:
            return _USAGE
        return self._say("alpha", argv)

    def _set_music(self, argv):
        if len(argv) < 3:
            return _USAGE
        with self._cond:
            if argv[2].lower().startswith("on"):
                self.music_on, self.music_class = True, argv[3] if len(argv) > 3 else "default"
                self.log.append(("music", "on", self.music_class))
            elif argv[2].lower().startswith("off"):
                self.music_on = False
                self.log.append(("music", "off"))
        return "200 result=0"

    def _set_variable(self, argv):
        if len(argv) != 4:
            return _USAGE
        with self._cond:
            self.variables[argv[2]] = argv[3]
            self.log.append(("set", argv[2], argv[3]))
        return "200 result=1"

    def _get_variable(self, argv):
        if len(argv) != 3:
            return _USAGE
        value = self._lookup(argv[2])
        return "200 result=0" if value is None else f"200 result=1 ({value})"

    def _get_full_variable(self, argv):
        if len(argv) not in (4, 5):
            return _USAGE
        if len(argv) == 5 and not self._is_me(argv[4]):
            return "200 result=0"
        return f"200 result=1 ({self._substitute(argv[3])})"

    def _database_get(self, argv):
        if len(argv) != 4:
            return _USAGE
        value = self.database.get((argv[2], argv[3]))
        return "200 result=0" if value is None else f"200 result=1 ({value})"

    def _database_put(self, argv):
        if len(argv) != 5:
            return _USAGE
        self.database[(argv[2], argv[3])] = argv[4]
        return "200 result=1"

    def _database_del(self, argv):
        if len(argv) != 4:
            return _USAGE
        return "200 result=1" if self.database.pop((argv[2], argv[3]), None) is not None else "200 result=0"

    def _database_deltree(self, argv):
        if len(argv) not in (3, 4):
            return _USAGE
        doomed = [key for key in self.database if key[0] == argv[2]
                  and (len(argv) == 3 or key[1] == argv[3] or key[1].startswith(argv[3] + "/"))]
        for key in doomed:
            del self.database[key]
        return "200 result=1" if doomed else "200 result=0"

    def _exec(self, argv):
        if len(argv) < 2:
            return _USAGE
        app, data = argv[1], argv[2] if len(argv) > 2 else ""
        with self._cond:
            self.executed.append((app, data))
            self.log.append(("exec", app, data))
            self._cond.notify_all()
            if app.lower() not in self.blocking_apps:
                return "200 result=0"
            if self._dead:
                return "200 result=-1"
            self._app_running, self._leave_result = app, None
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._leave_result is not None or self.hung_up or self._closing)
            result = self._leave_result if self._leave_result is not None else -1
            self._app_running, self._leave_result = None, None
            self.log.append(("left", app, result))
        return f"200 result={result}"

    def _verbose(self, argv):
        if len(argv) < 2:
            return _USAGE
        with self._cond:
            self.log.append(("verbose", argv[1], argv[2] if len(argv) > 2 else "1"))
        return "200 result=1"

    def _noop(self, argv):
        return "200 result=0"

    def _hangup_command(self, argv):
        if len(argv) > 2:
            return _USAGE
        if len(argv) == 2 and not self._is_me(argv[1]):
            return "200 result=-1"
        with self._cond:
            self.hung_up = True
            self.log.append(("hangup", "server"))
        return "200 result=1"

    def _played(self, name: str) -> None:
        with self._cond:
            self.played.append(name)
            self._cond.notify_all()

    COMMANDS: list[tuple[tuple[str, ...], Callable, bool]] = []  # filled below the class


def _setter(field_name: str) -> Callable:
    """SET CALLERID / CONTEXT / EXTENSION / PRIORITY / AUTOHANGUP: one argument each."""
    def handler(channel: FakeAgiChannel, argv: list[str]):
        if len(argv) != 3:
            return _USAGE
        with channel._cond:
            if field_name == "callerid":
                match = re.fullmatch(r'\s*(?:"?([^"<]*?)"?\s*)?<([^>]*)>\s*', argv[2])
                if match:
                    channel.callerid, channel.calleridname = match.group(2), match.group(1) or "unknown"
                else:
                    channel.callerid = argv[2]
                return "200 result=1"
            if field_name == "priority" and argv[2].isdigit():
                channel.priority = int(argv[2])
            elif field_name in ("context", "extension"):
                setattr(channel, field_name, argv[2])
        return "200 result=0"
    return handler


# (command words, handler, runs on a dead channel), as in res_agi.c's commands[]
FakeAgiChannel.COMMANDS = [
    (("answer",), FakeAgiChannel._answer, False),
    (("channel", "status"), FakeAgiChannel._channel_status, False),
    (("database", "del"), FakeAgiChannel._database_del, True),
    (("database", "deltree"), FakeAgiChannel._database_deltree, True),
    (("database", "get"), FakeAgiChannel._database_get, True),
    (("database", "put"), FakeAgiChannel._database_put, True),
    (("exec",), FakeAgiChannel._exec, True),
    (("get", "data"), FakeAgiChannel._get_data, False),
    (("get", "full", "variable"), FakeAgiChannel._get_full_variable, True),
    (("get", "option"), FakeAgiChannel._get_option, False),
    (("get", "variable"), FakeAgiChannel._get_variable, True),
    (("hangup",), FakeAgiChannel._hangup_command, False),
    (("noop",), FakeAgiChannel._noop, True),
    (("say", "alpha"), FakeAgiChannel._say_alpha, False),
    (("say", "digits"), FakeAgiChannel._say_digits, False),
    (("say", "number"), FakeAgiChannel._say_number, False),
    (("set", "autohangup"), _setter("autohangup"), False),
    (("set", "callerid"), _setter("callerid"), False),
    (("set", "context"), _setter("context"), False),
    (("set", "extension"), _setter("extension"), False),
    (("set", "music"), FakeAgiChannel._set_music, False),
    (("set", "priority"), _setter("priority"), False),
    (("set", "variable"), FakeAgiChannel._set_variable, True),
    (("stream", "file"), FakeAgiChannel._stream_file, False),
    (("verbose",), FakeAgiChannel._verbose, True),
    (("wait", "for", "digit"), FakeAgiChannel._wait_for_digit, False),
]


USAGE = {
    ("answer",): ("Answer channel.", "ANSWER"),
    ("channel", "status"): ("Returns status of the connected channel.", "CHANNEL STATUS [CHANNELNAME]"),
    ("database", "del"): ("Removes database key/value.", "DATABASE DEL FAMILY KEY"),
    ("database", "deltree"): ("Removes database keytree/value.", "DATABASE DELTREE FAMILY [KEYTREE]"),
    ("database", "get"): ("Gets database value.", "DATABASE GET FAMILY KEY"),
    ("database", "put"): ("Adds/updates database value.", "DATABASE PUT FAMILY KEY VALUE"),
    ("exec",): ("Executes a given Application.", "EXEC APPLICATION OPTIONS"),
    ("get", "data"): ("Prompts for DTMF on a channel.", "GET DATA FILE [TIMEOUT] [MAXDIGITS]"),
    ("get", "full", "variable"): ("Evaluates a channel expression.", "GET FULL VARIABLE EXPRESSION [CHANNELNAME]"),
    ("get", "option"): ("Stream file, prompt for DTMF, with timeout.", "GET OPTION FILENAME ESCAPE_DIGITS [TIMEOUT]"),
    ("get", "variable"): ("Gets a channel variable.", "GET VARIABLE VARIABLENAME"),
    ("hangup",): ("Hangup a channel.", "HANGUP [CHANNELNAME]"),
    ("noop",): ("Does nothing.", "NOOP"),
    ("say", "alpha"): ("Says a given character string.", "SAY ALPHA NUMBER ESCAPE_DIGITS"),
    ("say", "digits"): ("Says a given digit string.", "SAY DIGITS NUMBER ESCAPE_DIGITS"),
    ("say", "number"): ("Says a given number.", "SAY NUMBER NUMBER ESCAPE_DIGITS [GENDER]"),
    ("set", "autohangup"): ("Autohangup channel in some time.", "SET AUTOHANGUP TIME"),
    ("set", "callerid"): ("Sets callerid for the current channel.", "SET CALLERID NUMBER"),
    ("set", "context"): ("Sets channel context.", "SET CONTEXT DESIRED CONTEXT"),
    ("set", "extension"): ("Changes channel extension.", "SET EXTENSION NEW EXTENSION"),
    ("set", "music"): ("Enable/Disable Music on hold generator.", "SET MUSIC ON|OFF [CLASS]"),
    ("set", "priority"): ("Set channel dialplan priority.", "SET PRIORITY PRIORITY"),
    ("set", "variable"): ("Sets a channel variable.", "SET VARIABLE VARIABLENAME VALUE"),
    ("stream", "file"): ("Sends audio file on channel.", "STREAM FILE FILENAME ESCAPE_DIGITS [SAMPLE OFFSET]"),
    ("verbose",): ("Logs a message to the asterisk verbose log.", "VERBOSE MESSAGE LEVEL"),
    ("wait", "for", "digit"): ("Waits for a digit to be pressed.", "WAIT FOR DIGIT TIMEOUT"),
}

