"""One FastAGI session: the channel's environment in, commands out, replies back.

Asterisk's `AGI(agi://host:port/script)` opens a TCP connection per call, sends the
`agi_*` environment (one `name: value` line each, LF, then a blank line), and answers
each command line with one reply line (`200 result=1 (value)`, `510 ...`, `511 ...`,
a multi-line `520-...` usage). When the caller hangs up it sends `HANGUP` once, at any
moment, even between commands, and every command after that gets 511.

Why our own session and not `panoramisk.fast_agi`: its reader takes the next line as the
reply to the command just sent, so an unsolicited `HANGUP` shifts every later reply by
one; its environment reader loops forever on a connection closed before the blank line;
and it cannot wait for "the agent answered, or the caller hung up" without sending a
command. Here one reader task sorts lines into replies and the hang-up signal.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

ENV_LIMIT_BYTES = 16 * 1024
ENV_TIMEOUT_SECONDS = 5.0
_REPLY = re.compile(r"^(?P<code>\d{3})(?P<sep>[ -])(?P<rest>.*)$")
_RESULT = re.compile(r"result=(?P<result>\S*)(?:\s+\((?P<data>[^)]*)\))?")
_FIELD = re.compile(r"(\w+)=(\S+)")


class AgiProtocolError(Exception):
    """The peer did not speak AGI (bad environment, garbage reply)."""


class ChannelHungUp(Exception):
    """The channel is gone: a HANGUP line, a 511 reply or the connection closed."""


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str = ""
    data: str | None = None  # the "(...)" part: a variable's value, "timeout", "hangup"
    fields: dict = field(default_factory=dict)  # endpos=..., etc.
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200 and self.result != "-1"

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0


def parse_reply(line: str) -> AgiReply:
    """One reply line -> AgiReply; raises AgiProtocolError for anything else."""
    match = _REPLY.match(line)
    if not match:
        raise AgiProtocolError(f"not an AGI reply: {line[:80]!r}")
    code, rest = int(match["code"]), match["rest"]
    if code != 200:
        return AgiReply(code, text=rest)
    result = _RESULT.search(rest)
    if result is None:
        return AgiReply(code, text=rest)
    fields = dict(_FIELD.findall(rest[result.end():]))
    return AgiReply(code, result["result"], result["data"], fields, rest)


def quote(argument: str) -> str:
    """An AGI argument; quoted when empty or when it holds spaces or quotes."""
    if argument and not any(c in argument for c in ' "\\\t'):
        return argument
    return '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def read_environment(reader: asyncio.StreamReader) -> dict[str, str]:
    """The `agi_*` block up to the blank line; raises AgiProtocolError."""
    env: dict[str, str] = {}
    size = 0
    while True:
        try:
            raw = await asyncio.wait_for(reader.readline(), ENV_TIMEOUT_SECONDS)
        except asyncio.TimeoutError as exc:
            raise AgiProtocolError("no AGI environment within 5 s") from exc
        if not raw:
            raise AgiProtocolError("connection closed inside the AGI environment")
        size += len(raw)
        if size > ENV_LIMIT_BYTES:
            raise AgiProtocolError("AGI environment larger than 16 KiB")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            break
        name, sep, value = line.partition(":")
        if not sep or not name.startswith("agi_"):
            raise AgiProtocolError(f"not an AGI environment line: {line[:80]!r}")
        env[name] = value.lstrip(" ")
    if "agi_uniqueid" not in env or "agi_channel" not in env:
        raise AgiProtocolError("the AGI environment lacks agi_uniqueid or agi_channel")
    return env


class AgiSession:
    """Commands to one channel, and a signal when it hangs up."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, env: dict[str, str]) -> None:
        self.env = env
        self.hung_up = asyncio.Event()
        self._reader = reader
        self._writer = writer
        self._replies: asyncio.Queue[str | None] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._reading = asyncio.get_running_loop().create_task(self._read_lines())

    @classmethod
    async def accept(cls, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> "AgiSession":
        return cls(reader, writer, await read_environment(reader))

    @property
    def script(self) -> str:
        return self.env.get("agi_network_script", "").split("?", 1)[0].strip("/")

    @property
    def uniqueid(self) -> str:
        return self.env["agi_uniqueid"]

    async def _read_lines(self) -> None:
        usage: list[str] = []
        try:
            while True:
                raw = await self._reader.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line == "HANGUP":
                    self.hung_up.set()
                elif line.startswith("520-") or usage:  # a multi-line usage reply ends at "520 ..."
                    usage.append(line)
                    if line.startswith("520 "):
                        await self._replies.put("520 " + " ".join(usage))
                        usage = []
                elif line:
                    await self._replies.put(line)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.hung_up.set()
            await self._replies.put(None)

    async def command(self, *words: str) -> AgiReply:
        """Send one command; raises ChannelHungUp when the channel is gone."""
        async with self._lock:
            if self._reading.done():
                raise ChannelHungUp(self.uniqueid)
            self._writer.write((" ".join(words) + "\n").encode("utf-8"))
            try:
                await self._writer.drain()
            except ConnectionError as exc:
                raise ChannelHungUp(self.uniqueid) from exc
            line = await self._replies.get()
        if line is None:
            raise ChannelHungUp(self.uniqueid)
        reply = parse_reply(line)
        if reply.code == 511 or reply.data == "hangup":
            self.hung_up.set()
            raise ChannelHungUp(self.uniqueid)
        return reply

    async def wait(self, wake: asyncio.Event | None, timeout: float) -> bool:
        """Idle (music keeps playing) until `wake` is set, the caller hangs up, or the
        timeout passes. True when woken; raises ChannelHungUp on a hang-up."""
        waiters = [asyncio.ensure_future(self.hung_up.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if wake is not None and wake.is_set():
            return True
        if self.hung_up.is_set():
            raise ChannelHungUp(self.uniqueid)
        return False

    async def close(self) -> None:
        self._reading.cancel()
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass
