"""A redis-server of a test's own that can be stopped and started again on the same port,
keeping its data in an append-only file, as a city's Redis restarting would.

Used where a test restarts Redis in the middle of a call; the shared test Redis (see
`tests.conftest`) is never stopped.
"""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import redis

from onecall.redis_server import redis_server_binary
from tests.conftest import free_port

START_SECONDS = 10.0


class RestartableRedis:
    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen | None = None

    def start(self) -> "RestartableRedis":
        self._process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_answering()
        return self

    def _wait_until_answering(self) -> None:
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + START_SECONDS
        try:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with code {self._process.returncode}")
                try:
                    if client.ping():
                        return
                except redis.BusyLoadingError:
                    pass  # replaying its append-only file
                except redis.ConnectionError:
                    pass
                time.sleep(0.02)
        finally:
            client.close()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {START_SECONDS}s")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it: Redis syncs its append-only file and exits."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        self._process.wait(timeout=START_SECONDS)

    def restart(self) -> None:
        self.stop()
        self.start()
