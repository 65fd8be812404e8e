"""Screen pops: the citizen's profile to the reserved agent's desktop and to every
configured webhook, before the agent's phone rings.

Desktop: the pop is kept as the agent's current pop (so a desktop that reconnects still
shows it) and published on the agent's Redis channel, which the desktop's event stream
relays live.

Webhooks: each pop becomes one durable delivery per webhook, kept in Redis until the
receiver answers 2xx. Every attempt carries the same `X-OneCall-Delivery` id (receivers
de-duplicate on it) and `X-OneCall-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
Failed attempts are retried with exponential backoff; after `max_attempts` the delivery
moves to a dead-letter list and is logged. Any number of processes may run the worker:
`hotline.claims` hands each due delivery to exactly one of them under a lease.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Iterable

import requests

from hotline.claims import DueClaimer
from routing.keys import Keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ScreenPops:
    """Stores and announces pops, and queues their webhook deliveries."""

    def __init__(self, redis_client, keys: Keys, targets: Iterable[WebhookTarget]) -> None:
        self._redis = redis_client
        self._keys = keys
        self.targets = tuple(targets)
        self.deliveries_waiting = threading.Event()  # wakes this process's delivery worker
        self.due_key = keys.deliveries_due
        self.dead_key = keys.deliveries_failed
        self.delivery_key = keys.delivery
        self.channel = keys.desk_channel  # the agent's desk events (pub/sub)
        self._current_key = keys.pop

    def current(self, agent_id: str) -> dict | None:
        raw = self._redis.get(self._current_key(agent_id))
        return json.loads(raw) if raw else None

    def clear(self, agent_id: str) -> None:
        self._redis.delete(self._current_key(agent_id))

    def notify_desk(self, agent_id: str, kind: str, data: dict) -> None:
        self._redis.publish(self.channel(agent_id), json.dumps({"kind": kind, "data": data}, ensure_ascii=False))

    def subscribe(self, agent_id: str) -> "DeskEvents":
        """The agent's desk events, live, from any process."""
        return DeskEvents(self._redis, self.channel(agent_id))

    def publish(self, pop: dict) -> list[str]:
        """Show `pop` on its agent's desktop and queue it for every webhook. Returns delivery ids."""
        agent_id = pop["agent"]["id"]
        body = json.dumps(pop, ensure_ascii=False, sort_keys=True)
        now = time.time()
        delivery_ids = []
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._current_key(agent_id), body, ex=24 * 3600)
        pipe.publish(self.channel(agent_id), json.dumps({"kind": "pop", "data": pop}, ensure_ascii=False))
        for target in self.targets:
            delivery_id = str(uuid.uuid4())
            delivery_ids.append(delivery_id)
            pipe.hset(
                self.delivery_key(delivery_id),
                mapping={"url": target.url, "secret": target.secret, "body": body, "attempts": 0, "created": now},
            )
            pipe.zadd(self.due_key, {delivery_id: now})
        pipe.execute()
        if delivery_ids:
            self.deliveries_waiting.set()
        return delivery_ids


class DeskEvents:
    """One desk's subscription to its agent's events (pops, answers, misses)."""

    def __init__(self, redis_client, channel: str) -> None:
        self._pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(channel)

    def next(self, timeout: float) -> tuple[str, dict] | None:
        """The next event as (kind, data), or None when none came within `timeout` seconds."""
        message = self._pubsub.get_message(timeout=timeout)
        if message is None:
            return None
        event = json.loads(message["data"])
        return event["kind"], event["data"]

    def close(self) -> None:
        self._pubsub.close()


class DeliveryWorker:
    """Sends due webhook deliveries; one per process is enough, more are safe."""

    def __init__(self, redis_client, pops: ScreenPops, *, timeout: float, max_attempts: int, retry_base: float,
                 lease_seconds: float = 30.0, session: requests.Session | None = None) -> None:
        self._pops = pops
        self._redis = redis_client
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._retry_base = retry_base
        self._lease = max(lease_seconds, timeout * 2)
        self._due = DueClaimer(redis_client, pops.due_key)
        self._http = session or requests.Session()

    def run_due(self, batch: int = 20) -> int:
        """Attempt every delivery due now; returns how many were attempted."""
        now = time.time()
        ids = self._due.claim(due_before=now, move_to=now + self._lease, limit=batch)
        for delivery_id in ids:
            self._attempt(delivery_id)
        return len(ids)

    def _attempt(self, delivery_id: str) -> None:
        key = self._pops.delivery_key(delivery_id)
        delivery = self._redis.hgetall(key)
        if not delivery:
            self._redis.zrem(self._pops.due_key, delivery_id)
            return
        body = delivery["body"].encode()
        attempts = int(delivery["attempts"]) + 1
        try:
            reply = self._http.post(
                delivery["url"],
                data=body,
                timeout=self._timeout,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "X-OneCall-Signature": sign(delivery["secret"], body),
                    "X-OneCall-Delivery": delivery_id,
                    "X-OneCall-Attempt": str(attempts),
                },
            )
            acknowledged, outcome = 200 <= reply.status_code < 300, f"HTTP {reply.status_code}"
        except requests.RequestException as exc:
            acknowledged, outcome = False, type(exc).__name__
        if acknowledged:
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(key)
            pipe.zrem(self._pops.due_key, delivery_id)
            pipe.execute()
            return
        if attempts >= self._max_attempts:
            log.error("screen-pop delivery %s to %s gave up after %d attempts (%s)",
                      delivery_id, delivery["url"], attempts, outcome)
            pipe = self._redis.pipeline(transaction=True)
            pipe.zrem(self._pops.due_key, delivery_id)
            pipe.hset(key, mapping={"attempts": attempts, "last_outcome": outcome})
            pipe.lpush(self._pops.dead_key, delivery_id)
            pipe.execute()
            return
        retry_in = min(self._retry_base * 2 ** (attempts - 1), 300.0)
        log.warning("screen-pop delivery %s to %s failed (%s), retry %d in %.1fs",
                    delivery_id, delivery["url"], outcome, attempts, retry_in)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"attempts": attempts, "last_outcome": outcome})
        pipe.zadd(self._pops.due_key, {delivery_id: time.time() + retry_in})
        pipe.execute()
