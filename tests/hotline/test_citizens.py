"""The citizen registry's lookups for the IVR's identify step, on a real Redis."""
from __future__ import annotations

import pytest

from routing.keys import Keys
from hotline.citizens import VULNERABLE_PRIORITY, CitizenRegistry, parse_record


@pytest.fixture()
def registry(redis_client):
    registry = CitizenRegistry(redis_client, Keys("120"))
    registry.import_records([
        parse_record({"id": "C-1", "name": "김영희", "phones": ["010-1234-5678"], "registry_number": "12345678",
                      "vulnerable": True, "open_items": [{"department": "fines", "kind": "parking", "amount": 40000}]}),
        parse_record({"id": "C-2", "name": "John Park", "phones": ["+82 10 2222 3333"]}),
    ])
    return registry


def test_a_caller_id_finds_the_citizen_and_whether_they_are_served_first(registry):
    assert registry.find_by_phone("+821012345678").citizen_id == "C-1"
    assert registry.find_by_phone("010-1234-5678").priority == VULNERABLE_PRIORITY  # same number, local form
    assert registry.find_by_phone("+821022223333").priority == 0
    assert registry.find_by_phone("+821099999999") is None
    assert registry.find_by_phone("") is None


def test_a_typed_registry_number_finds_the_citizen(registry):
    assert registry.find_by_registry_number("12345678").citizen_id == "C-1"
    assert registry.find_by_registry_number("87654321") is None
    assert registry.find_by_registry_number("12ab") is None  # not digits: never looked up


def test_an_index_entry_whose_record_is_gone_finds_nobody(registry, redis_client):
    redis_client.delete("oc:{120}:citizen:C-1")
    assert registry.find_by_phone("+821012345678") is None
    assert registry.find_by_registry_number("12345678") is None


def test_lookups_work_after_the_server_forgot_its_scripts(registry, redis_client):
    redis_client.script_flush()
    assert registry.find_by_phone("+821012345678").citizen_id == "C-1"


def test_lookups_work_on_a_client_that_returns_bytes(redis_url, registry):
    import redis

    raw_client = redis.Redis.from_url(redis_url)
    try:
        match = CitizenRegistry(raw_client, Keys("120")).find_by_phone("+821012345678")
        assert match.citizen_id == "C-1" and match.priority == VULNERABLE_PRIORITY
    finally:
        raw_client.close()
