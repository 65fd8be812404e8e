"""The one Redis client factory: plain, TLS, Sentinel and Cluster, sync and asyncio, on real servers."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
import redis
import redis.asyncio
import redis.cluster
import redis.sentinel

from hotline.errors import ConfigInvalid
from hotline.sessions import CallSessions
from ivr.state import CallState
from onecall.redis_clients import async_client, async_client_factory, client_for_url, sync_client
from onecall.settings import CLUSTER, SENTINEL, load_settings, redis_settings
from routing import AgentProfile, CallRequest, RoutingStore
from routing.keys import Keys
from tests.conftest import TwilioSigner, start_web_process
from tests.webhooks.helpers import caller_params, new_call_sid, twiml
from tests.redis_topologies import ClusterSet, SentinelSet, skip_without_debian_redis

AGENT = AgentProfile("kim", "Kim", {"tax": 3}, ("ko",), "sip:kim")


def reserve_one(client, namespace: str = "t"):
    """A RoutingStore on `client`: an available agent, a call enqueued, reserved to the agent."""
    store = RoutingStore(client, namespace=namespace, reservation_timeout=20.0, wrapup_seconds=30.0)
    store.sync_agents([AGENT])
    store.set_status("kim", "available")
    return store.enqueue(CallRequest(call_id="c1", skill="tax", language="ko")).reservation


def settings_of(client) -> dict:
    """The pool's connection settings that are plain values (not per-pool handler objects)."""
    kwargs = client.connection_pool.connection_kwargs
    return {key: value for key, value in kwargs.items() if isinstance(value, (str, int, float, bool, type(None)))}


# -- plain and TLS --------------------------------------------------------------------------
def test_a_plain_url_gives_the_client_it_always_gave(redis_url, redis_client):
    client = client_for_url(redis_url)
    assert type(client) is redis.Redis
    assert settings_of(client) == settings_of(redis.Redis.from_url(redis_url, decode_responses=True))
    assert client.set("plain", "värde") and redis_client.get("plain") == "värde"
    assert reserve_one(client).agent_id == "kim"


def test_a_tls_url_connects_with_tls():
    settings = redis_settings("rediss://:secret@redis.example.org:6380/2")
    assert settings.tls
    pool = sync_client(settings).connection_pool
    assert issubclass(pool.connection_class, redis.SSLConnection)
    assert pool.connection_kwargs["port"] == 6380 and pool.connection_kwargs["db"] == 2
    async_pool = async_client(settings).connection_pool
    assert issubclass(async_pool.connection_class, redis.asyncio.SSLConnection)


def test_a_sentinel_tls_url_connects_with_tls():
    settings = redis_settings("rediss+sentinel://s1:26380,s2/onecall/4")
    assert (settings.kind, settings.sentinels, settings.master, settings.db, settings.tls) == \
        (SENTINEL, (("s1", 26380), ("s2", 26379)), "onecall", 4, True)
    client = sync_client(settings)
    assert issubclass(client.connection_pool.connection_class, redis.SSLConnection)
    assert client.connection_pool.connection_kwargs["db"] == 4


def test_a_sentinel_url_names_sentinels_with_or_without_a_port_and_the_primary_credentials():
    settings = redis_settings("redis+sentinel://app:s%40cret@[::1]:26380,sentinel-b/onecall")
    assert settings.sentinels == (("::1", 26380), ("sentinel-b", 26379))
    assert (settings.username, settings.password, settings.db, settings.tls) == ("app", "s@cret", 0, False)


# -- bad settings -----------------------------------------------------------------------------
@pytest.mark.parametrize("environ, variable", [
    ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
    ({"REDIS_URL": "redis+sentinel://127.0.0.1:26379"}, "REDIS_URL"),  # no master name
    ({"REDIS_URL": "redis+sentinel://127.0.0.1:port/onecall"}, "REDIS_URL"),
    ({"REDIS_URL": "redis+sentinel://127.0.0.1/onecall/first"}, "REDIS_URL"),
    ({"REDIS_URL": "redis://127.0.0.1:6379", "REDIS_CLUSTER": "maybe"}, "REDIS_CLUSTER"),
    ({"REDIS_URL": "redis+sentinel://127.0.0.1/onecall", "REDIS_CLUSTER": "1"}, "REDIS_CLUSTER"),
])
def test_bad_redis_settings_are_refused_naming_the_variable(environ, variable, tmp_path):
    with pytest.raises(ConfigInvalid) as refused:
        load_settings(environ, instance_dir=tmp_path)
    assert [field for field, _ in refused.value.problems] == [variable]
    assert variable in refused.value.message


def test_a_password_is_not_repeated_in_the_error(tmp_path):
    with pytest.raises(ConfigInvalid) as refused:
        load_settings({"REDIS_URL": "http://:hunter2@127.0.0.1"}, instance_dir=tmp_path)
    assert "hunter2" not in refused.value.message


# -- Sentinel -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sentinel_set():
    skip_without_debian_redis()
    servers = SentinelSet()
    yield servers
    servers.stop()


@pytest.fixture()
def sentinel_url(sentinel_set):
    sentinel_set.primary(7).flushdb()
    yield sentinel_set.url(db=7)
    sentinel_set.primary(7).flushdb()


def test_the_sentinel_client_writes_to_the_primary_and_routing_works_through_it(sentinel_set, sentinel_url):
    client = sync_client(load_settings({"REDIS_URL": sentinel_url}, instance_dir="/nonexistent").redis)
    reservation = reserve_one(client)
    assert reservation is not None and reservation.agent_id == "kim"
    primary = sentinel_set.primary(7)
    assert primary.exists(Keys("t").call("c1"))  # written to the primary, database 7
    assert RoutingStore(client, namespace="t").call("c1").agent_id == "kim"


def test_call_sessions_reach_the_primary_through_sentinel(sentinel_set, sentinel_url):
    """The sessions' lane must not connect anywhere but where the client's Sentinel says."""
    client = client_for_url(sentinel_url)
    sessions = CallSessions(client, Keys("t"))
    assert sessions.create(CallState(call_id="c1", caller="+8210", node="start", language="ko"))
    assert sentinel_set.primary(7).exists(Keys("t").session("c1"))
    assert sessions.load("c1").node == "start"


def test_the_asyncio_sentinel_client_reads_what_the_sync_one_wrote(sentinel_url):
    client_for_url(sentinel_url).rpush("requests", "ring")

    async def take():
        client = async_client_factory(redis_settings(sentinel_url))()
        try:
            return await client.blpop(["requests"], timeout=1)
        finally:
            await client.aclose()

    assert list(asyncio.run(take())) == ["requests", "ring"]


# -- Cluster --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster_set():
    skip_without_debian_redis()
    servers = ClusterSet()
    yield servers
    servers.stop()


def test_routing_works_through_the_cluster_client_from_any_node(cluster_set):
    for port in cluster_set.ports:  # two of three nodes do not own the hotline's slot
        settings = load_settings({"REDIS_URL": cluster_set.url(port), "REDIS_CLUSTER": "1"},
                                 instance_dir="/nonexistent").redis
        assert settings.kind == CLUSTER
        client = sync_client(settings)
        client.delete(*(Keys(f"n{port}").call("c1"),))
        reservation = reserve_one(client, namespace=f"n{port}")
        assert reservation is not None and reservation.agent_id == "kim"
        assert RoutingStore(client, namespace=f"n{port}").call("c1").agent_id == "kim"


def test_call_sessions_work_through_the_cluster_client(cluster_set):
    client = client_for_url(cluster_set.url(), cluster=True)
    sessions = CallSessions(client, Keys("s"))
    client.delete(Keys("s").session("c1"))
    assert sessions.create(CallState(call_id="c1", caller="+8210", node="start", language="ko"))
    assert sessions.load("c1").node == "start"


def test_the_asyncio_cluster_client_reads_what_the_sync_one_wrote(cluster_set):
    settings = redis_settings(cluster_set.url(cluster_set.ports[1]), cluster=True)
    sync_client(settings).rpush("{t}:requests", "ring")

    async def take():
        client = async_client(settings)
        try:
            return await client.blpop(["{t}:requests"], timeout=1)
        finally:
            await client.aclose()

    assert list(asyncio.run(take())) == ["{t}:requests", "ring"]


# -- the application starts and answers a call on each kind -----------------------------------
def start_and_answer_a_call(demo_config, settings):
    """What `onecall serve` does in a worker: build from the settings, bootstrap, take a call."""
    web = start_web_process(demo_config, settings, None)
    try:
        document = twiml(TwilioSigner(web.app.test_client()).post(
            "/twilio/voice", caller_params(new_call_sid(), CallStatus="ringing")))
        assert document.find("Gather") is not None  # the welcome menu
        return web.application.redis
    finally:
        web.stop()


def test_the_application_starts_and_answers_on_sentinel(demo_config, settings, sentinel_set, sentinel_url):
    client = start_and_answer_a_call(demo_config, replace(settings, redis_url=sentinel_url))
    assert isinstance(client.connection_pool, redis.sentinel.SentinelConnectionPool)
    assert sentinel_set.primary(7).dbsize() > 0  # the agents, the call and its session: on the primary


def test_the_application_starts_and_answers_on_a_cluster(demo_config, settings, cluster_set):
    hotline_slot = redis.cluster.key_slot(Keys(demo_config.hotline.id).call("x").encode())
    for port in cluster_set.ports:  # from each node, the owner of the hotline's slot or not
        client = start_and_answer_a_call(demo_config, replace(settings, redis_url=cluster_set.url(port),
                                                              redis_cluster=True))
        assert isinstance(client, redis.cluster.RedisCluster)
        assert client.cluster_countkeysinslot(hotline_slot) > 0


# -- the commands -------------------------------------------------------------------------------
def onecall_command(deployment_dir, environ: dict, *args: str) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}, **environ}
    return subprocess.run([sys.executable, "-m", "onecall.cli", *args], cwd=deployment_dir, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_command_refuses_a_bad_redis_url_naming_the_variable(deployment_dir):
    result = onecall_command(deployment_dir, {"REDIS_URL": "redis+sentinel://127.0.0.1:26379"}, "doctor")
    assert result.returncode == 2
    assert "REDIS_URL" in result.stderr and "redis+sentinel://host:port,host:port/mastername" in result.stderr


def test_doctor_and_citizens_import_reach_redis_through_sentinel(deployment_dir, sentinel_set, sentinel_url):
    doctor = onecall_command(deployment_dir, {"REDIS_URL": sentinel_url}, "doctor")
    assert f"ok   redis: {sentinel_url} (sentinel) answers" in doctor.stdout
    citizens = deployment_dir / "one.jsonl"
    citizens.write_text(json.dumps({"id": "C-1", "name": "a", "registry_number": "10001000"}) + "\n")
    imported = onecall_command(deployment_dir, {"REDIS_URL": sentinel_url}, "citizens", "import", str(citizens))
    assert imported.returncode == 0, imported.stderr
    assert sentinel_set.primary(7).exists("oc:{120}:citizen:C-1")


def test_citizens_import_reaches_the_cluster_from_any_node(deployment_dir, cluster_set):
    citizens = deployment_dir / "one.jsonl"
    citizens.write_text(json.dumps({"id": "C-2", "name": "b", "registry_number": "10001001"}) + "\n")
    for port in cluster_set.ports:
        imported = onecall_command(deployment_dir, {"REDIS_URL": cluster_set.url(port), "REDIS_CLUSTER": "1"},
                                   "citizens", "import", str(citizens))
        assert imported.returncode == 0, imported.stderr
    assert client_for_url(cluster_set.url(), cluster=True).exists("oc:{120}:citizen:C-2")
