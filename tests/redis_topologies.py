"""Real Sentinel and Cluster sets on loopback, from Debian's `redis-server`/`redis-sentinel`
(`apt-get install redis-server redis-sentinel`): started in a temporary folder, stopped after."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile

import pytest
import redis

from tests.conftest import free_port, wait_for

SENTINEL_BINARY = shutil.which("redis-sentinel")
# The redis-server beside redis-sentinel (Debian's): the one a cluster or Sentinel set runs.
SERVER_BINARY = os.path.join(os.path.dirname(SENTINEL_BINARY), "redis-server") if SENTINEL_BINARY else None
CLI_BINARY = shutil.which("redis-cli")
MASTER = "onecall"


def skip_without_debian_redis() -> None:
    if not (SENTINEL_BINARY and SERVER_BINARY and os.access(SERVER_BINARY, os.X_OK) and CLI_BINARY):
        pytest.skip("needs Debian's redis-server, redis-sentinel and redis-cli "
                    "(apt-get install -y redis-server redis-sentinel)")


class Processes:
    """Child processes sharing one temporary folder."""

    def __init__(self, prefix: str) -> None:
        self.workdir = tempfile.mkdtemp(prefix=prefix)
        self.children: list[subprocess.Popen] = []

    def start(self, binary: str, config: str, name: str) -> None:
        path = os.path.join(self.workdir, f"{name}.conf")
        with open(path, "w") as file:
            file.write(config + f"\ndir {self.workdir}\nlogfile {name}.log\n")
        self.children.append(subprocess.Popen([binary, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def starting(self, start) -> None:
        """Run `start`; if it fails, stop what it had started before passing the failure on."""
        try:
            start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for child in self.children:
            child.terminate()
        for child in self.children:
            child.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _server_config(port: int, extra: str = "") -> str:
    return f"port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndbfilename dump-{port}.rdb\n{extra}"


def _answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.2).ping())
    except redis.RedisError:
        return False


class SentinelSet:
    """One primary, one replica, three sentinels monitoring them as `onecall`."""

    def __init__(self) -> None:
        self.processes = Processes("onecall-sentinel-")
        self.processes.starting(self._start)

    def _start(self) -> None:
        self.primary_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes.start(SERVER_BINARY, _server_config(self.primary_port), "primary")
        self.processes.start(SERVER_BINARY, _server_config(
            self.replica_port, f"replicaof 127.0.0.1 {self.primary_port}"), "replica")
        for port in self.sentinel_ports:
            self.processes.start(SENTINEL_BINARY, f"port {port}\nbind 127.0.0.1\n"
                                 f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
                                 f"sentinel down-after-milliseconds {MASTER} 2000\n"
                                 f"sentinel failover-timeout {MASTER} 10000\n", f"sentinel-{port}")
        wait_for(lambda: all(_answers(p) for p in (self.primary_port, self.replica_port, *self.sentinel_ports)))
        wait_for(lambda: redis.Redis(port=self.replica_port).info("replication")["master_link_status"] == "up")

    def url(self, db: int = 0) -> str:
        where = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{where}/{MASTER}/{db}"

    def primary(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.primary_port, db=db, decode_responses=True)

    def stop(self) -> None:
        self.processes.stop()


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    while True:
        port = free_port()
        if port + 10000 < 65536 and _free(port + 10000):
            return port


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class ClusterSet:
    """Three primaries, no replicas, the slots spread by `redis-cli --cluster create`."""

    def __init__(self) -> None:
        self.processes = Processes("onecall-cluster-")
        self.processes.starting(self._start)

    def _start(self) -> None:
        self.ports = [_cluster_port() for _ in range(3)]
        for port in self.ports:
            self.processes.start(SERVER_BINARY, _server_config(
                port, f"cluster-enabled yes\ncluster-config-file nodes-{port}.conf\ncluster-node-timeout 2000"),
                f"node-{port}")
        wait_for(lambda: all(_answers(port) for port in self.ports))
        subprocess.run([CLI_BINARY, "--cluster", "create", *(f"127.0.0.1:{port}" for port in self.ports),
                        "--cluster-yes"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: all(redis.Redis(port=port).cluster("info")["cluster_state"] == "ok"
                             for port in self.ports), timeout=20)

    def url(self, port: int | None = None) -> str:
        return f"redis://127.0.0.1:{port or self.ports[0]}/0"

    def stop(self) -> None:
        self.processes.stop()
