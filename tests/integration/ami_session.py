"""The test's own AMI session to the real Asterisk (a user with every privilege): it plays
the citizen's keys, hangs up channels, lists them, and watches events. OneCall's driver
has its own session, as in production."""
from __future__ import annotations

import itertools
import socket
import threading
import time

from telephony.asterisk.ami_wire import AmiFrameParser


class AmiSession:
    def __init__(self, port: int, username: str, secret: str) -> None:
        self.port, self.username, self.secret = port, username, secret
        self.events: list[dict] = []
        self._responses: dict[str, dict] = {}
        self._lists: dict[str, list[dict]] = {}
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self._sock: socket.socket | None = None
        self._write_lock = threading.Lock()
        self.closed = threading.Event()  # Asterisk closed the connection (it stopped or restarts)

    def connect(self, timeout: float = 30.0) -> "AmiSession":
        self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        self._sock.settimeout(None)
        threading.Thread(target=self._read, name="test-ami", daemon=True).start()
        reply = self.action({"Action": "Login", "Username": self.username, "Secret": self.secret})
        assert reply.get("Response") == "Success", reply
        self.wait_event(lambda e: e.get("Event") == "FullyBooted", timeout=timeout)
        return self

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()

    def _read(self) -> None:
        parser = AmiFrameParser()
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed.set()
                with self._changed:
                    self._changed.notify_all()
                return
            for message in parser.feed(data):
                self._take(message)

    def _take(self, message: dict) -> None:
        with self._changed:
            action_id = message.get("ActionID")
            if "Event" in message:
                self.events.append(message)
                if action_id in self._lists:
                    self._lists[action_id].append(message)
            elif action_id:
                self._responses[action_id] = message
            self._changed.notify_all()

    # -- actions --------------------------------------------------------------------------
    def send(self, fields: dict) -> str:
        action_id = fields.get("ActionID") or f"t{next(self._ids)}"
        lines = [f"{k}: {v}" for k, v in {**fields, "ActionID": action_id}.items()]
        with self._write_lock:
            self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return action_id

    def action(self, fields: dict, timeout: float = 15.0) -> dict:
        action_id = self.send(fields)
        with self._changed:
            if not self._changed.wait_for(lambda: action_id in self._responses, timeout):
                raise TimeoutError(f"no answer to {fields.get('Action')}")
            return self._responses.pop(action_id)

    def channels(self, timeout: float = 15.0) -> list[dict]:
        """Asterisk's live channels (CoreShowChannels)."""
        action_id = f"t{next(self._ids)}"
        with self._changed:
            self._lists[action_id] = []
        self.send({"Action": "CoreShowChannels", "ActionID": action_id})
        done = lambda: any(e.get("Event") == "CoreShowChannelsComplete" for e in self._lists[action_id])
        with self._changed:
            if not self._changed.wait_for(done, timeout):
                raise TimeoutError("CoreShowChannels did not complete")
            return [e for e in self._lists.pop(action_id) if e.get("Event") == "CoreShowChannel"]

    def uniqueids(self) -> set[str]:
        return {channel.get("Uniqueid") for channel in self.channels()}

    # -- events ---------------------------------------------------------------------------
    def wait_event(self, predicate, timeout: float = 20.0, since: int = 0) -> dict:
        """The first event from index `since` on that matches; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events[since:]:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no matching AMI event")
                self._changed.wait(remaining)

    def mark(self) -> int:
        with self._changed:
            return len(self.events)
