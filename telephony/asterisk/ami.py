"""The AMI connection, on panoramisk, with its known traps handled.

panoramisk gives us the asyncio connection, ActionID correlation and action futures. What
it gets wrong, and what this module does about each:

- A refused Login only sets `authenticated = False`; Asterisk then closes the socket and
  panoramisk reconnects and fails again forever without a word. Here the first login's
  outcome is a future: a wrong secret is `AmiLoginRefused` with a plain message at start;
  after a good start, a refusal is logged on every retry.
- Reconnects come every 2 s for ever; here with exponential backoff (0.5 s to 30 s),
  reset after a login succeeds.
- Actions in flight when the connection drops are re-sent after the reconnect (only Ping
  and Login are not). An Originate re-sent after a restart rings an agent for a call that
  no longer exists; here nothing is re-sent and each waiting action fails at once with
  `AmiUnavailable`, so its sender decides.
- An async Originate's future waits for the OriginateResponse event, up to the ring
  timeout and forever if it is lost; a list action's future never resolves if its
  Complete event is lost. Here Originate is sent as a single-response action (its outcome
  is an event like any other) and every action has a deadline.
- Its Ping never notices a dead peer; here a Ping unanswered before the next one closes
  the connection, which reconnects.
- Its parser drops malformed frames silently and builds a case-insensitive dict per
  event; here `telephony.asterisk.ami_wire` parses, logs and skips malformed frames, and events
  go to one subscription table by name (a dict lookup, not a list of fnmatch patterns).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from telephony.asterisk.ami_wire import AmiFrameParser, MalformedFrame
from telephony.asterisk.errors import AmiLoginRefused, AmiUnavailable

log = logging.getLogger(__name__)

EVENT_MASK = "system,call"  # FullyBooted, Shutdown, ContactStatus; Hangup, OriginateResponse, DeviceStateChange
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0


class Backoff:
    def __init__(self, first: float = BACKOFF_FIRST, ceiling: float = BACKOFF_MAX) -> None:
        self._first, self._ceiling, self._next = first, ceiling, first

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self._ceiling)
        return delay

    def reset(self) -> None:
        self._next = self._first


def log_malformed(error: MalformedFrame) -> None:
    log.warning("skipped a malformed AMI frame (%s): %r", error.reason, error.frame[:200])


class OneCallAmiProtocol(AMIProtocol):
    """panoramisk's protocol with our parser and routing of messages."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.parser = AmiFrameParser(on_malformed=log_malformed)

    def close(self) -> None:
        for action in list(self.responses.values()):
            if not action.future.done():
                action.future.set_exception(AmiUnavailable("the AMI connection closed before the answer"))
                action.future.add_done_callback(lambda done: done.exception())  # nobody may be waiting
        super().close()

    def data_received(self, data: bytes) -> None:
        for message in self.parser.feed(data):
            self.route(message)
        if self.version is None and self.parser.banner is not None:
            self.version = self.parser.banner

    def route(self, message: dict) -> None:
        action_id = message.get("ActionID")
        event = message.get("Event")
        if action_id and event != "OriginateResponse" and action_id in self.responses:
            self.handle_message(Message(message))  # completes the action's future
        elif event is not None:
            if event == "Shutdown":
                self.connection_lost(None)
            self.factory.dispatch_event(message)


class AmiConnection(Manager):
    """One logged-in AMI connection that reconnects by itself.

    `on_event(message)` gets every event as a plain dict; `on_login()` runs after each
    successful login (the driver resyncs then).
    """

    def __init__(self, *, host: str, port: int, username: str, secret: str,
                 on_event: Callable[[dict], None], on_login: Callable[[], None],
                 action_timeout: float = 10.0, ping_interval: int = 10) -> None:
        super().__init__(host=host, port=port, username=username, secret=secret, events=EVENT_MASK,
                         protocol_factory=OneCallAmiProtocol, ping_delay=ping_interval,
                         ping_interval=ping_interval, forgetable_actions=_EVERY_ACTION,
                         loop=asyncio.get_running_loop())
        self.callbacks.clear()
        self.patterns.clear()  # no fnmatch dispatch: events go to on_event
        self._on_event = on_event
        self._after_login = on_login
        self._action_timeout = action_timeout
        self._backoff = Backoff()
        self._closing = False
        self.first_login: asyncio.Future = self.loop.create_future()
        self.address = f"{host}:{port}"
        self.username = username

    # -- connecting and logging in ---------------------------------------------------
    def connection_made(self, future) -> None:
        if self._closing:
            return
        error = future.exception()
        if isinstance(error, OSError):
            delay = self._backoff.next()
            log.warning("AMI %s unreachable (%s); retrying in %.1f s", self.address, error, delay)
            self.loop.call_later(delay, self._reconnect)
            return
        super().connection_made(future)

    def login(self, future) -> bool:
        try:
            response = future.result()
        except Exception as exc:  # the connection dropped before the answer
            log.warning("AMI login to %s got no answer: %r", self.address, exc)
            return False
        ok = super().login(future)
        if ok:
            self._backoff.reset()
            log.info("AMI logged in to %s as %s", self.address, self.username)
            if not self.first_login.done():
                self.first_login.set_result(True)
            self._after_login()
        else:
            refused = AmiLoginRefused(
                f"Asterisk at {self.address} refused AMI user '{self.username}': "
                f"{response.get('Message') or response.get('Response')}. Check ONECALL_AMI_USER and "
                f"ONECALL_AMI_SECRET against manager.conf.")
            log.error("%s", refused.message)
            if not self.first_login.done():
                self.first_login.set_exception(refused)
        return ok

    def connection_lost(self, exc) -> None:
        self._connected = False
        self.authenticated = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        if self._closing:
            return
        delay = self._backoff.next()
        log.error("AMI connection to %s lost; reconnecting in %.1f s", self.address, delay)
        self.loop.call_later(delay, self._reconnect)

    def _reconnect(self) -> None:
        if not self._closing:
            self.connect()

    def ping(self) -> None:
        self.pinger = self.loop.call_later(self.ping_interval, self.ping)
        protocol = self.protocol
        if protocol is None or protocol.closed:
            return
        pong = protocol.send({"Action": "Ping"})
        self.loop.call_later(self.ping_interval * 0.8, self._check_pong, pong, protocol)

    def _check_pong(self, pong, protocol) -> None:
        if not pong.done() and protocol is self.protocol and not protocol.closed:
            log.error("AMI %s did not answer a Ping; reconnecting", self.address)
            protocol.transport.abort()

    def dispatch_event(self, message: dict) -> None:
        try:
            self._on_event(message)
        except Exception:  # one bad event must not stop the reader
            log.exception("handling AMI event %s failed", message.get("Event"))

    # -- actions ----------------------------------------------------------------------
    async def action(self, fields: dict, *, as_list: bool | None = False, timeout: float | None = None):
        """Send one action and wait for its answer (a list for list actions)."""
        return await self.start_action(fields, as_list=as_list, timeout=timeout)

    def start_action(self, fields: dict, *, as_list: bool | None = False, timeout: float | None = None):
        """Write one action now (on the connection's loop) and return an awaitable of its
        answer, as `action` gives it. Raises AmiUnavailable at once when not logged in."""
        protocol = self.protocol
        if protocol is None or protocol.closed or not self.authenticated:
            raise AmiUnavailable(f"no AMI connection to {self.address} for {fields.get('Action')}")
        future = self.send_action(dict(fields), as_list=as_list)
        return self._answer(protocol, future, fields.get("Action"), timeout or self._action_timeout)

    async def _answer(self, protocol, future, action: str | None, timeout: float):
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            for key, pending in list(protocol.responses.items()):
                if pending.future is future:
                    protocol.responses.pop(key, None)
            raise AmiUnavailable(f"AMI {self.address} did not answer {action} in time") from None

    def close(self) -> None:
        self._closing = True
        super().close()


class _Everything(tuple):
    """panoramisk asks `name in forgetable_actions`: every action is forgettable."""

    def __contains__(self, item) -> bool:
        return True


_EVERY_ACTION = _Everything()
