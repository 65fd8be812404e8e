"""One `onecall serve` per instance folder.

The running server holds an exclusive `flock` on `instance/serve.lock` (its pid written
inside, for the message a second server prints). The embedded redis-server inherits the
lock's file descriptor, so the folder stays taken until both the server and the Redis
that writes its files are gone. The kernel drops a dead process's locks: a lock file left
behind by a killed server never blocks the next start.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from routing.errors import OneCallError

LOCK_NAME = "serve.lock"


class InstanceInUse(OneCallError):
    """Another `onecall serve` (or the Redis it started) still holds this instance folder."""

    error_id = "instance-in-use"


class InstanceLock:
    """The held lock; `fileno()` is passed to the child processes that must keep it held."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    def fileno(self) -> int:
        return self._fd


def _holder(fd: int) -> str:
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return f"pid {text}" if text.isdigit() else "pid unknown"


def lock_instance(instance_dir: Path) -> InstanceLock:
    """Take the instance folder for this process, or raise InstanceInUse naming the holder."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise InstanceInUse(f"onecall serve is already running in this folder ({holder}, {path}); "
                            "stop it first, or run the second one from another folder",
                            details={"lock": str(path), "holder": holder}) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return InstanceLock(fd, path)
