"""The built-in citizen registry, kept in Redis.

A citizen record (one JSON object per line in import files, format in the README):
identity, phone numbers, the registry number a caller can type in the IVR, whether the
citizen is vulnerable (served first), past consultations in any department, and open
items (unpaid taxes, fines, bills) in every department.

Keys (named in `routing.keys`): the record without consultations (JSON), its consultations
(a list, newest first), the phone and registry-number indexes (hashes -> citizen id).
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ivr.interpreter import CitizenMatch
from hotline.errors import BadRequest, NoSuchCitizen
from routing.keys import Keys
from routing.scripts import FIND_CITIZEN

VULNERABLE_PRIORITY = 10  # routing serves higher numbers first

class Consultation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: datetime
    department: str
    agent: str = ""
    summary: Annotated[str, Field(max_length=4000)] = ""


class OpenItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str
    kind: Annotated[str, Field(min_length=1, max_length=200)]
    amount: Annotated[int, Field(ge=0)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "KRW"
    due: str | None = None
    reference: str | None = None


class CitizenRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
    registry_number: Annotated[str | None, Field(pattern=r"^[0-9]{4,16}$")] = None
    name: Annotated[str, Field(min_length=1, max_length=200)]
    phones: list[str] = []
    birth_year: Annotated[int | None, Field(ge=1900, le=2100)] = None
    vulnerable: bool = False
    language: str | None = None
    address: str | None = None
    consultations: list[Consultation] = []
    open_items: list[OpenItem] = []


def normalize_phone(raw: str, country_code: str = "82") -> str:
    """E.164 form of a phone number: '010-1234-5678' -> '+821012345678'. Non-phone ids pass through."""
    raw = raw.strip()
    if raw.startswith(("client:", "sip:")):
        return raw
    digits = re.sub(r"[^0-9]", "", raw)
    if not digits:
        return raw
    if raw.startswith("+"):
        return "+" + digits
    if raw.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):
        return f"+{country_code}{digits[1:]}"
    return "+" + digits


def parse_record(data: object, where: str = "") -> CitizenRecord:
    """Validate one record; BadRequest names the bad field (prefixed by `where`, e.g. 'line 3')."""
    prefix = f"{where}: " if where else ""
    if not isinstance(data, dict):
        raise BadRequest(f"{prefix}(record)".strip(), "must be a JSON object")
    try:
        return CitizenRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in first["loc"]).replace(".[", "[")
        reason = "is required" if first["type"] == "missing" else first["msg"]
        raise BadRequest(f"{prefix}{field}", reason) from None


def parse_json_lines(lines: Iterable[str]) -> list[CitizenRecord]:
    """Every record of a JSON-lines text, or BadRequest naming the first bad line and field."""
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadRequest(f"line {number}", f"is not valid JSON ({exc.msg})") from None
        records.append(parse_record(data, f"line {number}"))
    return records


def name_key(name: str, birth_year: object) -> str:
    """The name index's field: the name without spaces, case-folded, and the birth year."""
    return f"{''.join(str(name).split()).casefold()}|{birth_year}"


SEARCH_LIMIT = 20


class CitizenRegistry:
    """Citizen records in Redis; also the interpreter's CitizenDirectory."""

    def __init__(self, redis_client, keys: Keys, country_code: str = "82") -> None:
        self._redis = redis_client
        self._keys = keys
        self._country_code = country_code
        self._find = redis_client.register_script(FIND_CITIZEN)
        self._record_key = keys.citizen
        self._consultations_key = keys.citizen_consultations
        self._by_phone = keys.citizen_by_phone
        self._by_number = keys.citizen_by_number

    def count(self) -> int:
        return self._redis.hlen(self._keys.citizen_ids)

    def import_records(self, records: Iterable[CitizenRecord]) -> int:
        """Insert or replace records (consultation history is replaced by the imported one)."""
        pipe = self._redis.pipeline(transaction=True)
        count = 0
        for record in records:
            body = record.model_dump(mode="json", exclude={"consultations"})
            body["phones"] = [normalize_phone(p, self._country_code) for p in record.phones]
            pipe.set(self._record_key(record.id), json.dumps(body, ensure_ascii=False))
            pipe.hset(self._keys.citizen_ids, record.id, "1")
            for phone in body["phones"]:
                pipe.hset(self._by_phone, phone, record.id)
            if record.registry_number:
                pipe.hset(self._by_number, record.registry_number, record.id)
            if record.birth_year:
                pipe.sadd(self._keys.citizen_by_name(name_key(record.name, record.birth_year)), record.id)
            history = self._consultations_key(record.id)
            pipe.delete(history)
            newest_first = sorted(record.consultations, key=lambda c: c.at, reverse=True)
            if newest_first:
                pipe.rpush(history, *(c.model_dump_json() for c in newest_first))
            count += 1
        pipe.execute()
        return count

    def get(self, citizen_id: str) -> dict:
        raw = self._redis.get(self._record_key(citizen_id))
        if raw is None:
            raise NoSuchCitizen(f"no citizen with id '{citizen_id}'")
        return json.loads(raw)

    def record_and_consultations(self, citizen_id: str, limit: int = 50) -> tuple[dict, list[dict]]:
        """A citizen's record and history in one round trip (the screen pop needs both at once)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(self._record_key(citizen_id))
        pipe.lrange(self._consultations_key(citizen_id), 0, limit - 1)
        raw, history = pipe.execute()
        if raw is None:
            raise NoSuchCitizen(f"no citizen with id '{citizen_id}'")
        return json.loads(raw), [json.loads(item) for item in history]

    def consultations(self, citizen_id: str, limit: int = 50) -> list[dict]:
        return [json.loads(item) for item in self._redis.lrange(self._consultations_key(citizen_id), 0, limit - 1)]

    def add_consultation(self, citizen_id: str, consultation: Consultation) -> None:
        self.get(citizen_id)  # refuse history for an unknown citizen
        self._redis.lpush(self._consultations_key(citizen_id), consultation.model_dump_json())

    def search(self, *, name: str = "", birth_year: str = "", phone: str = "", registry_number: str = "") -> list[dict]:
        """Records matching a phone, a registry number, or a name with a birth year: each one
        index read and one read of the matches, whatever the registry's size."""
        ids = self._search_ids(name, birth_year, phone, registry_number)[:SEARCH_LIMIT]
        raws = self._redis.mget([self._record_key(i) for i in ids]) if ids else []
        records = [json.loads(raw) for raw in raws if raw]
        # an index entry left by a re-import that changed the name or phone is not a match
        return [r for r in records if _matches(r, name, birth_year, phone and self._phone(phone), registry_number)]

    def _search_ids(self, name: str, birth_year: str, phone: str, registry_number: str) -> list[str]:
        if phone:
            found = self._redis.hget(self._by_phone, self._phone(phone))
        elif registry_number:
            found = self._redis.hget(self._by_number, registry_number)
        elif name and birth_year:
            return sorted(_text(m) for m in self._redis.smembers(self._keys.citizen_by_name(name_key(name, birth_year))))
        else:
            raise BadRequest("query", "이름과 출생연도, 전화번호 또는 등록번호를 입력하세요 / "
                                      "give a name with a birth year, a phone or a registry number")
        return [_text(found)] if found else []

    def _phone(self, phone: str) -> str:
        return normalize_phone(phone, self._country_code)

    # -- CitizenDirectory, used by the IVR's identify step --------------------------------
    def _find_in(self, index: str, value: str) -> CitizenMatch | None:
        found = self._find(keys=[index], args=[value, self._keys.citizen_record_prefix])
        if not found:
            return None
        citizen_id, vulnerable = found
        if isinstance(citizen_id, bytes):
            citizen_id = citizen_id.decode()
        return CitizenMatch(citizen_id=citizen_id, priority=VULNERABLE_PRIORITY if vulnerable else 0)

    def find_by_phone(self, phone: str) -> CitizenMatch | None:
        if not phone:
            return None
        return self._find_in(self._by_phone, normalize_phone(phone, self._country_code))

    def find_by_registry_number(self, number: str) -> CitizenMatch | None:
        if not number or not number.isdigit():
            return None
        return self._find_in(self._by_number, number)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _matches(record: dict, name: str, birth_year: str, phone: str, registry_number: str) -> bool:
    if phone and phone not in record.get("phones", []):
        return False
    if registry_number and record.get("registry_number") != registry_number:
        return False
    return not name or name_key(record["name"], record.get("birth_year")) == name_key(name, birth_year)
