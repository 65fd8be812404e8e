"""The suite leaves the user's Redis and checkout alone."""
from __future__ import annotations

import os

import pytest
import redis

from tests.conftest import copy_deployment, suite_redis


def test_without_redis_url_the_suite_runs_its_own_server_not_the_one_on_6379():
    url, server = suite_redis({})
    try:
        assert server is not None and not url.startswith("redis://127.0.0.1:6379")
        assert redis.Redis.from_url(url).config_get("dir")["dir"] == os.path.realpath(server.workdir)
    finally:
        server.stop()
    assert not os.path.exists(server.workdir)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()


def test_with_redis_url_the_suite_uses_exactly_that_and_starts_nothing():
    assert suite_redis({"REDIS_URL": "redis://db.example:6380/3"}) == ("redis://db.example:6380/3", None)


def test_a_deployment_copy_takes_the_catalog_and_leaves_rendered_audio_behind(tmp_path):
    checkout = tmp_path / "checkout"
    for name, text in {"config.yaml": "hotline: {}\n", "prompts/catalog.yaml": "prompts: {}\n",
                       "prompts/audio/ko/welcome.wav": "RIFF", "prompts/audio/manifest.json": "{}",
                       "flows/main.yaml": "start: a\n", "demo/citizens.jsonl": "{}\n"}.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text)
    copy = copy_deployment(checkout, tmp_path / "copy")
    assert (copy / "prompts" / "catalog.yaml").read_text() == "prompts: {}\n"
    assert not (copy / "prompts" / "audio").exists()
    assert (copy / "flows" / "main.yaml").exists() and (copy / "demo" / "citizens.jsonl").exists()
