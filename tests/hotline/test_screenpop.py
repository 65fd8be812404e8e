"""Screen-pop webhooks are retried with backoff under the same delivery id until the
receiver acknowledges; after max_attempts they go to the dead-letter list."""
from __future__ import annotations

import hashlib
import hmac
import json

from routing.keys import Keys
from hotline.screenpop import DeliveryWorker, ScreenPops, WebhookTarget

SECRET = "a-webhook-secret-of-some-length"
POP = {"call": {"id": "CA1"}, "agent": {"id": "kim.minji"}, "citizen": {"identified": False}}


def _drain(worker: DeliveryWorker, pops: ScreenPops, redis_client, rounds: int) -> None:
    for _ in range(rounds):
        waiting = redis_client.zrange(pops.due_key, 0, -1)
        if waiting:
            redis_client.zadd(pops.due_key, {member: 0 for member in waiting})  # make every retry due now
        worker.run_due()


def test_failed_delivery_is_retried_with_the_same_id_until_acknowledged(redis_client, screenpop_receiver):
    pops = ScreenPops(redis_client, Keys("t"), [WebhookTarget(screenpop_receiver.url, SECRET)])
    worker = DeliveryWorker(redis_client, pops, timeout=2, max_attempts=5, retry_base=60)
    screenpop_receiver.fail_first = 2
    [delivery_id] = pops.publish(POP)
    worker.run_due()
    assert len(screenpop_receiver.received) == 1
    # Backoff: the retry is scheduled in the future, so an immediate run sends nothing.
    assert redis_client.zscore(pops.due_key, delivery_id) > 0
    worker.run_due()
    assert len(screenpop_receiver.received) == 1
    _drain(worker, pops, redis_client, 2)
    attempts = screenpop_receiver.received
    assert [a.answered for a in attempts] == [503, 503, 200]
    assert {a.headers["x-onecall-delivery"] for a in attempts} == {delivery_id}
    assert [a.headers["x-onecall-attempt"] for a in attempts] == ["1", "2", "3"]
    body = attempts[-1].body
    assert attempts[-1].headers["x-onecall-signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body) == POP
    assert redis_client.zcard(pops.due_key) == 0 and not redis_client.exists(pops.delivery_key(delivery_id))


def test_delivery_gives_up_after_max_attempts_into_dead_letters(redis_client, screenpop_receiver):
    pops = ScreenPops(redis_client, Keys("t"), [WebhookTarget(screenpop_receiver.url, SECRET)])
    worker = DeliveryWorker(redis_client, pops, timeout=2, max_attempts=3, retry_base=60)
    screenpop_receiver.fail_first = 100
    [delivery_id] = pops.publish(POP)
    _drain(worker, pops, redis_client, 5)
    assert len(screenpop_receiver.received) == 3
    assert redis_client.lrange(pops.dead_key, 0, -1) == [delivery_id]
    assert redis_client.zcard(pops.due_key) == 0


def test_unreachable_receiver_counts_as_failure(redis_client):
    pops = ScreenPops(redis_client, Keys("t"), [WebhookTarget("http://127.0.0.1:9/nothing-listens", SECRET)])
    worker = DeliveryWorker(redis_client, pops, timeout=1, max_attempts=2, retry_base=60)
    [delivery_id] = pops.publish(POP)
    worker.run_due()
    assert redis_client.hget(pops.delivery_key(delivery_id), "attempts") == "1"
    assert redis_client.zscore(pops.due_key, delivery_id) is not None


def test_two_workers_never_send_one_delivery_twice(redis_client, screenpop_receiver):
    pops = ScreenPops(redis_client, Keys("t"), [WebhookTarget(screenpop_receiver.url, SECRET)])
    first = DeliveryWorker(redis_client, pops, timeout=2, max_attempts=3, retry_base=60)
    second = DeliveryWorker(redis_client, pops, timeout=2, max_attempts=3, retry_base=60)
    ids = [pops.publish(POP)[0] for _ in range(20)]
    claimed_by_first = first._due.claim(due_before=9e12, move_to=9e12 + 30, limit=100)
    claimed_by_second = second._due.claim(due_before=9e12, move_to=9e12 + 30, limit=100)
    assert sorted(claimed_by_first) == sorted(ids) and claimed_by_second == []
