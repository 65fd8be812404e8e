"""A TCP relay for the FastAGI path between Asterisk and OneCall. With `hold_open` set it
behaves like a network that lost the Asterisk host (a power cut, a crashed VM): when
Asterisk's side of a connection goes away, nothing reaches OneCall's side, which stays
open and silent. The only way OneCall learns that those calls vanished is the AMI
reconnect and its resync."""
from __future__ import annotations

import socket
import threading


class FastAgiRelay:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.hold_open = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> "FastAgiRelay":
        threading.Thread(target=self._accept, name="agi-relay", daemon=True).start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                asterisk_side, _ = self._listener.accept()
            except OSError:
                return
            onecall_side = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._open += [asterisk_side, onecall_side]
            threading.Thread(target=self._pump, args=(asterisk_side, onecall_side, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(onecall_side, asterisk_side, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_asterisk: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            try:
                sink.sendall(data)
            except OSError:
                if self.hold_open:
                    continue  # the host is gone: what OneCall sends is lost on the way
                break
        if from_asterisk and self.hold_open:
            with self._lock:
                self._held.append(sink)  # OneCall's side: never told
            return
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for end in self._open:
                end.close()
