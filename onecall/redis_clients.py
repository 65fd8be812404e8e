"""The one place Redis clients are made, for every process and command, sync and asyncio.

`RedisSettings` (REDIS_URL, REDIS_CLUSTER; see `onecall.settings`) says which kind:
- plain (`redis://`, `rediss://`, `unix://`): `Redis.from_url`, exactly as before;
- sentinel (`redis+sentinel://h:p,h:p/master/db`): a client of the primary Sentinel names,
  found again through the sentinels after a failover;
- cluster (REDIS_CLUSTER=1): a `RedisCluster` that learns the slots from the node named.

Every client decodes replies to `str` (`decode_responses=True`) unless asked otherwise.
"""
from __future__ import annotations

from typing import Any, Callable

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel

from onecall.settings import CLUSTER, SENTINEL, RedisSettings, redis_settings

AsyncClientFactory = Callable[[], redis.asyncio.Redis]


def sync_client(settings: RedisSettings, **options: Any) -> redis.Redis:
    """A blocking client of `settings` (`options` are redis-py's: socket_timeout, ...)."""
    options = {"decode_responses": True, **options}
    if settings.kind == SENTINEL:
        sentinel = redis.sentinel.Sentinel(list(settings.sentinels), sentinel_kwargs=_sentinel_options(settings, options))
        return sentinel.master_for(settings.master, **_primary_options(settings, options))
    if settings.kind == CLUSTER:
        return redis.cluster.RedisCluster.from_url(settings.url, **options)
    return redis.Redis.from_url(settings.url, **options)


def async_client(settings: RedisSettings, **options: Any) -> redis.asyncio.Redis:
    """An asyncio client of `settings`, the same kinds as `sync_client`."""
    options = {"decode_responses": True, **options}
    if settings.kind == SENTINEL:
        sentinel = redis.asyncio.sentinel.Sentinel(list(settings.sentinels),
                                                   sentinel_kwargs=_sentinel_options(settings, options))
        return sentinel.master_for(settings.master, **_primary_options(settings, options))
    if settings.kind == CLUSTER:
        return redis.asyncio.cluster.RedisCluster.from_url(settings.url, **options)
    return redis.asyncio.Redis.from_url(settings.url, **options)


def async_client_factory(settings: RedisSettings, **options: Any) -> AsyncClientFactory:
    """What a driver is given to open its own asyncio client on its own loop."""
    return lambda: async_client(settings, **options)


def client_for_url(url: str, cluster: bool = False, **options: Any) -> redis.Redis:
    """A blocking client of a REDIS_URL (and REDIS_CLUSTER) as the tools and tests hold them."""
    return sync_client(redis_settings(url, cluster), **options)


def _primary_options(settings: RedisSettings, options: dict) -> dict:
    primary = {"db": settings.db, **options}
    if settings.username:
        primary["username"] = settings.username
    if settings.password:
        primary["password"] = settings.password
    if settings.tls:
        primary["ssl"] = True
    return primary


def _sentinel_options(settings: RedisSettings, options: dict) -> dict:
    """How the sentinels themselves are asked: same timeouts and TLS, no credentials."""
    asked = {key: options[key] for key in ("socket_timeout", "socket_connect_timeout") if key in options}
    if settings.tls:
        asked["ssl"] = True
    return asked
