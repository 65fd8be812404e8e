"""`RedisLane`: the per-thread connection the call sessions use, on a real Redis."""
from __future__ import annotations

import multiprocessing
import threading

import pytest
import redis

from hotline.redis_lane import RedisLane


@pytest.fixture()
def lane(redis_client):
    lane = RedisLane(redis_client)
    yield lane
    lane.close()


def test_replies_are_decoded_as_the_client_decodes_them(redis_client, redis_url, lane):
    assert lane.execute("SET", "k", "värde", "EX", 60, "NX") == "OK"
    assert lane.execute("SET", "k", "other", "EX", 60, "NX") is None  # NX: the key exists
    assert lane.execute("GET", "k") == "värde"
    raw = redis.Redis.from_url(redis_url)
    try:
        assert RedisLane(raw).execute("GET", "k") == "värde".encode()
    finally:
        raw.close()


def test_uses_the_database_and_settings_of_the_client(redis_client, lane):
    lane.execute("SET", "where", "here")
    assert redis_client.get("where") == "here"  # same database as the client, whatever its URL says


def test_a_connection_the_server_dropped_is_replaced_without_losing_the_command(redis_client, lane):
    my_id = lane.execute("CLIENT", "ID")
    redis_client.client_kill_filter(_id=my_id)
    assert lane.execute("SET", "after-kill", "1") == "OK"
    assert lane.execute("CLIENT", "ID") != my_id
    assert redis_client.get("after-kill") == "1"


def test_an_error_reply_is_raised_and_the_connection_is_kept(redis_client, lane):
    redis_client.rpush("a-list", "x")
    my_id = lane.execute("CLIENT", "ID")
    with pytest.raises(redis.ResponseError):
        lane.execute("GET", "a-list")  # WRONGTYPE
    assert lane.execute("CLIENT", "ID") == my_id


def test_a_timed_out_command_never_leaves_its_reply_for_the_next_one(redis_url, redis_client):
    impatient = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=0.2)
    lane = RedisLane(impatient)
    try:
        with pytest.raises(redis.TimeoutError):
            lane.execute("BLPOP", "nothing-yet", 1)  # tried twice, 0.2 s each
        redis_client.rpush("nothing-yet", "late")
        redis_client.set("plain", "value")
        assert lane.execute("GET", "plain") == "value"  # not the BLPOP's late ['nothing-yet', 'late']
    finally:
        lane.close()
        impatient.close()


def test_each_thread_has_its_own_connection(lane):
    ids: list[int] = []

    def worker():
        ids.append(lane.execute("CLIENT", "ID"))
        lane.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 3 and lane.execute("CLIENT", "ID") not in ids


def _client_id_in_child(lane, queue):
    queue.put(lane.execute("CLIENT", "ID"))


def test_a_forked_process_opens_its_own_connection(lane):
    parent_id = lane.execute("CLIENT", "ID")  # opened before the fork, as in a preloading server
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_client_id_in_child, args=(lane, queue))
    child.start()
    child_id = queue.get(timeout=10)
    child.join(timeout=10)
    assert child_id != parent_id
    assert lane.execute("CLIENT", "ID") == parent_id  # the parent's connection is untouched
