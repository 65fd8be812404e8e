"""The citizen registry's lookups for the IVR's identify step, on a real Redis."""
from __future__ import annotations

import pytest

from routing.keys import Keys
from hotline.citizens import VULNERABLE_PRIORITY, CitizenRegistry, parse_record

SKILLS = ("local_tax", "fines", "transport", "welfare", "water", "general")


@pytest.fixture()
def registry(redis_client):
    registry = CitizenRegistry(redis_client, Keys("120"), skills=SKILLS)
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
        match = CitizenRegistry(raw_client, Keys("120"), skills=SKILLS).find_by_phone("+821012345678")
        assert match.citizen_id == "C-1" and match.priority == VULNERABLE_PRIORITY
    finally:
        raw_client.close()


# -- import rules -------------------------------------------------------------------------
import threading

from hotline.citizens import ImportBatch, parse_json_lines
from hotline.errors import CitizensRefused


def _refused(registry, records) -> list[tuple]:
    with pytest.raises(CitizensRefused) as refused:
        registry.import_records(records)
    return [(p.line, p.field, p.reason) for p in refused.value.problems]


def test_a_registry_number_held_by_another_citizen_is_refused_naming_both(registry):
    [(line, field, reason)] = _refused(registry, [parse_record({"id": "C-3", "name": "x", "registry_number": "12345678"})])
    assert (line, field) == (1, "registry_number")
    assert "C-1" in reason and "C-3" in reason
    assert registry.find_by_registry_number("12345678").citizen_id == "C-1"  # nobody else is identified by it
    with pytest.raises(Exception):
        registry.get("C-3")


def test_one_number_twice_in_a_file_is_refused(registry):
    batch = parse_json_lines(['{"id": "C-5", "name": "a", "registry_number": "55550000"}',
                              '{"id": "C-6", "name": "b", "registry_number": "55550000"}'])
    [(line, field, reason)] = _refused(registry, batch)
    assert (line, field) == (2, "registry_number") and "C-5" in reason and "line 1" in reason
    assert registry.find_by_registry_number("55550000") is None


def test_the_same_id_twice_in_a_file_is_refused(registry):
    batch = parse_json_lines(['{"id": "C-5", "name": "a"}', '{"id": "C-5", "name": "b"}'])
    assert _refused(registry, batch) == [(2, "id", "C-5 is already on line 1")]


def test_phones_must_be_phone_numbers(registry):
    for phone in ("010-1234-abcd", "client:kim", "12", "", "+0 10 1234 5678", "1" * 16):
        [(_, field, _)] = _refused(registry, [parse_record({"id": "C-7", "name": "x", "phones": ["010-1111-2222", phone]})])
        assert field == "phones[1]", phone
    registry.import_records([parse_record({"id": "C-7", "name": "x", "phones": ["(02) 777-1234", "+1 415 555 0100"]})])
    assert registry.get("C-7")["phones"] == ["+8227771234", "+14155550100"]


def test_departments_must_be_configured_skills(registry):
    record = parse_record({"id": "C-8", "name": "x",
                           "consultations": [{"at": "2026-01-02T10:00:00+09:00", "department": "parks"}],
                           "open_items": [{"department": "fines", "kind": "k", "amount": 1},
                                          {"department": "Fines", "kind": "k", "amount": 1}]})
    assert [(line, field) for line, field, _ in _refused(registry, [record])] == [
        (1, "consultations[0].department"), (1, "open_items[1].department")]


def test_every_bad_line_is_reported_and_nothing_is_imported(registry):
    batch = parse_json_lines([
        '{"id": "C-10", "name": "fine"}',
        'not json',
        '{"id": "C-11"}',
        '',
        '{"id": "C-12", "name": "x", "phones": ["call me"]}',
        '{"id": "C-13", "name": "x", "registry_number": "12345678"}',
        '[1, 2]',
    ])
    assert [(line, field) for line, field, _ in _refused(registry, batch)] == [
        (2, "(line)"), (3, "name"), (5, "phones[0]"), (6, "registry_number"), (7, "(record)")]
    for citizen_id in ("C-10", "C-12", "C-13"):
        with pytest.raises(Exception):
            registry.get(citizen_id)


def test_importing_an_id_again_replaces_it_and_releases_what_it_no_longer_has(registry):
    registry.import_records([parse_record({"id": "C-1", "name": "김영희", "phones": ["010-9999-0000"],
                                           "registry_number": "11112222"})])
    assert registry.find_by_registry_number("12345678") is None
    assert registry.find_by_phone("+821012345678") is None
    assert registry.find_by_registry_number("11112222").citizen_id == "C-1"
    assert registry.find_by_phone("+821099990000").citizen_id == "C-1"
    registry.import_records([parse_record({"id": "C-3", "name": "x", "registry_number": "12345678"})])
    assert registry.find_by_registry_number("12345678").citizen_id == "C-3"  # the released number is free


def test_a_number_can_move_between_citizens_of_one_file(registry):
    registry.import_records(parse_json_lines(['{"id": "C-4", "name": "new holder", "registry_number": "12345678"}',
                                              '{"id": "C-1", "name": "김영희", "registry_number": "12340000"}']))
    assert registry.find_by_registry_number("12345678").citizen_id == "C-4"
    assert registry.find_by_registry_number("12340000").citizen_id == "C-1"


def test_a_shared_phone_identifies_nobody_by_caller_id(registry):
    """A household's landline on two records: caller ID must not pick one of them; the IVR
    then asks for the registry number, which names one citizen."""
    registry.import_records([parse_record({"id": "C-9", "name": "spouse", "phones": ["010-1234-5678"],
                                           "registry_number": "99990000"})])
    assert registry.find_by_phone("+821012345678") is None
    assert registry.find_by_registry_number("12345678").citizen_id == "C-1"
    assert registry.find_by_registry_number("99990000").citizen_id == "C-9"
    registry.import_records([parse_record({"id": "C-9", "name": "spouse", "registry_number": "99990000"})])
    assert registry.find_by_phone("+821012345678").citizen_id == "C-1"  # C-9 gave the phone up


def test_two_concurrent_imports_cannot_both_take_one_number(redis_url, registry):
    import redis

    clients = [redis.Redis.from_url(redis_url, decode_responses=True) for _ in range(2)]
    registries = [CitizenRegistry(client, Keys("120"), skills=SKILLS) for client in clients]
    for round_number in range(20):
        number = f"7777{round_number:04d}"
        barrier, outcomes = threading.Barrier(2), {}

        def take(index: int) -> None:
            record = parse_record({"id": f"R{round_number}-{index}", "name": "x", "registry_number": number})
            barrier.wait()
            try:
                registries[index].import_records([record])
                outcomes[index] = "imported"
            except CitizensRefused:
                outcomes[index] = "refused"

        threads = [threading.Thread(target=take, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes.values()) == ["imported", "refused"], outcomes
        winner = next(index for index, outcome in outcomes.items() if outcome == "imported")
        assert registry.find_by_registry_number(number).citizen_id == f"R{round_number}-{winner}"
    for client in clients:
        client.close()


def test_a_plain_list_of_records_is_numbered_from_1(registry):
    batch = ImportBatch.of([parse_record({"id": "C-20", "name": "a"}),
                            parse_record({"id": "C-21", "name": "b", "registry_number": "12345678"})])
    [(line, _, _)] = _refused(registry, batch)
    assert line == 2
