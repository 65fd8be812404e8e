"""A per-thread Redis connection for the commands every webhook turn makes.

Each command through redis-py's client goes through a pool checkout, which makes a `poll()`
system call to check that the connection holds no stale reply. It also goes through a retry
policy and observability hooks. On a 2-core virtual machine that costs about 100 µs of CPU
per command, as much as the rest of a turn's own work (signature, flow step, TwiML). The
call sessions' read and write, once or twice per turn, go through `RedisLane` instead.

A lane uses the same connection class and settings as the client's pool (host or socket,
database, credentials, TLS, timeouts, response decoding). It keeps one connection per
thread and per process, and does no checkout. The pool's checks guard against two things,
and the lane handles both itself:
- Stale replies. redis-py's `Connection` drops the connection on any error while sending or
  reading, so a reply that was never read cannot be read by a later command.
- Dropped connections (a server restart, an idle timeout). A command that fails with a
  connection error or a timeout is tried once more on a new connection, as redis-py's
  default retry would. An error reply from the server is not a connection problem: it is
  raised at once and the connection is kept.

Only the sessions use the lane. Everything else still goes through the client.

The lane builds its own connections only for a client of one fixed server (a plain
`ConnectionPool`). A Sentinel client's connections must ask Sentinel where the primary is,
and a cluster client routes each key to its node: for those the lane sends through the
client's own `execute_command`, with its connection management (and its pool checkout).
"""
from __future__ import annotations

import os
import threading
from typing import Any

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.sentinel import SentinelConnectionPool


def _fixed_server_pool(client) -> redis.ConnectionPool | None:
    """The client's pool when it always connects to the same server; else None."""
    pool = getattr(client, "connection_pool", None)  # a cluster client has none
    if isinstance(pool, redis.ConnectionPool) and not isinstance(pool, SentinelConnectionPool):
        return pool
    return None


class RedisLane:
    def __init__(self, client: redis.Redis) -> None:
        pool = _fixed_server_pool(client)
        self._through_client = client.execute_command if pool is None else None
        if pool is None:
            return
        self._connection_class = pool.connection_class
        self._connection_kwargs = dict(pool.connection_kwargs)
        self._local = threading.local()

    def _connection(self):
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # first use in this thread, or a forked child
            local.connection = self._connection_class(**self._connection_kwargs)
            local.pid = os.getpid()
        return local.connection

    def execute(self, *args: Any) -> Any:
        """Send one command and return its reply (decoded as the client's pool decodes)."""
        if self._through_client is not None:
            return self._through_client(*args)
        try:
            return self._round_trip(self._connection(), args)
        except (RedisConnectionError, RedisTimeoutError):
            # redis-py's Connection has already dropped the socket: this opens a new one.
            return self._round_trip(self._connection(), args)

    @staticmethod
    def _round_trip(connection, args: tuple) -> Any:
        connection.send_command(*args)
        return connection.read_response()

    def close(self) -> None:
        """Close this thread's connection (the others close with their threads' lanes)."""
        if self._through_client is not None:
            return  # the client's connections are the client's to close
        connection = getattr(self._local, "connection", None)
        if connection is not None and getattr(self._local, "pid", None) == os.getpid():
            connection.disconnect()
        self._local.__dict__.clear()
