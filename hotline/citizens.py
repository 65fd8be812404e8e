"""The built-in citizen registry, kept in Redis.

A citizen record (one JSON object per line in import files, format in the README):
identity, phone numbers, the registry number a caller can type in the IVR, whether the
citizen is vulnerable (served first), past consultations in any department, and open
items (unpaid taxes, fines, bills) in every department.

Keys (named in `routing.keys`): the record without consultations (JSON), its consultations
(a list, newest first), the registry-number index (hash -> citizen id) and the phone index
(hash -> citizen id, or the ids sharing that phone separated by spaces).

Import rules (every problem of every line is reported; a batch with any is refused whole):
the record's schema; phones must be phone numbers; consultations and open items must be in
departments that are configured skills; an id and a registry number appear once per batch;
a registry number held by another citizen is refused, naming both. A phone may be shared
(a household's landline): the index then lists every holder and caller ID identifies
nobody by it, so the IVR asks for the registry number. One Lua script (IMPORT_CITIZENS)
checks and writes, so two concurrent imports cannot both take one number.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ivr.interpreter import CitizenMatch
from hotline.errors import BadRequest, CitizensRefused, ImportProblem, NoSuchCitizen
from routing.keys import Keys
from routing.scripts import FIND_CITIZEN, IMPORT_CITIZENS

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


PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-]+$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def phone_problem(raw: str, country_code: str = "82") -> str | None:
    """Why `raw` is not a phone number, or None when it is one."""
    if not PHONE_CHARACTERS.match(raw.strip()) or not E164.match(normalize_phone(raw, country_code)):
        return "is not a phone number (7 to 15 digits, optionally +, spaces, dashes, dots, parentheses)"
    return None


def _field_path(location: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in location).replace(".[", "[")


def _schema_problems(data: object, line: int | None) -> tuple[CitizenRecord | None, list[ImportProblem]]:
    if not isinstance(data, dict):
        return None, [ImportProblem(line, "(record)", "must be a JSON object")]
    try:
        return CitizenRecord.model_validate(data), []
    except ValidationError as exc:
        return None, [ImportProblem(line, _field_path(error["loc"]) or "(record)",
                                    "is required" if error["type"] == "missing" else error["msg"])
                      for error in exc.errors()]


@dataclass
class ImportBatch:
    """Parsed records with their line numbers, and the problems parsing found."""

    records: list[tuple[int | None, CitizenRecord]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @classmethod
    def of(cls, records: Iterable[CitizenRecord]) -> "ImportBatch":
        return cls(records=list(enumerate(records, start=1)))

    def add(self, data: object, line: int | None) -> None:
        record, problems = _schema_problems(data, line)
        self.problems += problems
        if record is not None:
            self.records.append((line, record))


def parse_record(data: object) -> CitizenRecord:
    """Validate one record's schema; CitizensRefused lists every bad field."""
    record, problems = _schema_problems(data, None)
    if problems:
        raise CitizensRefused(problems)
    return record


def parse_json_lines(lines: Iterable[str]) -> ImportBatch:
    """Every record of a JSON-lines text, and every problem of every bad line."""
    batch = ImportBatch()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            batch.add(json.loads(line), number)
        except json.JSONDecodeError as exc:
            batch.problems.append(ImportProblem(number, "(line)", f"is not valid JSON ({exc.msg})"))
    return batch


def parse_json_body(text: str) -> ImportBatch:
    """A JSON object (one record) or array (`line` is then the item's position, from 1)."""
    batch = ImportBatch()
    try:
        body = json.loads(text or "null")
    except json.JSONDecodeError as exc:
        batch.problems.append(ImportProblem(None, "(body)", f"is not valid JSON ({exc.msg})"))
        return batch
    for line, item in (enumerate(body, start=1) if isinstance(body, list) else [(None, body)]):
        batch.add(item, line)
    return batch


def _department_problems(line: int | None, record: CitizenRecord, skills: frozenset[str]) -> list[ImportProblem]:
    entries = [("consultations", i, c.department) for i, c in enumerate(record.consultations)]
    entries += [("open_items", i, item.department) for i, item in enumerate(record.open_items)]
    return [ImportProblem(line, f"{kind}[{i}].department",
                          f"'{department}' is not a configured skill ({', '.join(sorted(skills))})")
            for kind, i, department in entries if department not in skills]


def _duplicate_problems(batch: ImportBatch) -> list[ImportProblem]:
    """An id or a registry number given twice in one batch (the later line is named)."""
    problems, ids, numbers = [], {}, {}
    for line, record in batch.records:
        if record.id in ids:
            problems.append(ImportProblem(line, "id", f"{record.id} is already on line {ids[record.id]}"))
        ids.setdefault(record.id, line)
        number = record.registry_number
        if number and number in numbers and numbers[number][1] != record.id:
            first_line, first_id = numbers[number]
            problems.append(ImportProblem(line, "registry_number",
                                          f"{number} is also given to {first_id} on line {first_line}"))
        elif number:
            numbers.setdefault(number, (line, record.id))
    return problems


def name_key(name: str, birth_year: object) -> str:
    """The name index's field: the name without spaces, case-folded, and the birth year."""
    return f"{''.join(str(name).split()).casefold()}|{birth_year}"


SEARCH_LIMIT = 20


class CitizenRegistry:
    """Citizen records in Redis; also the interpreter's CitizenDirectory."""

    def __init__(self, redis_client, keys: Keys, country_code: str = "82", *, skills: Iterable[str]) -> None:
        self._redis = redis_client
        self._keys = keys
        self._country_code = country_code
        self._skills = frozenset(skills)  # the departments a consultation or an open item may name
        self._find = redis_client.register_script(FIND_CITIZEN)
        self._import = redis_client.register_script(IMPORT_CITIZENS)
        self._record_key = keys.citizen
        self._consultations_key = keys.citizen_consultations
        self._by_phone = keys.citizen_by_phone
        self._by_number = keys.citizen_by_number

    def count(self) -> int:
        return self._redis.hlen(self._keys.citizen_ids)

    def import_records(self, records: ImportBatch | Iterable[CitizenRecord]) -> int:
        """Insert or replace records (consultation history is replaced by the imported one).

        CitizensRefused lists every problem of the batch, and nothing is written."""
        batch = records if isinstance(records, ImportBatch) else ImportBatch.of(records)
        problems = [*batch.problems, *self._rule_problems(batch)]
        problems += self._store(batch.records, check_only=bool(problems))
        if problems:
            raise CitizensRefused(sorted(problems, key=lambda problem: problem.line or 0))
        self._index_names(record for _, record in batch.records)
        return len(batch.records)

    def _index_names(self, records: Iterable[CitizenRecord]) -> None:
        """The desk's search by name and birth year (a renamed citizen's old entry is filtered
        out by `search`)."""
        pipe = self._redis.pipeline(transaction=False)
        for record in records:
            if record.birth_year:
                pipe.sadd(self._keys.citizen_by_name(name_key(record.name, record.birth_year)), record.id)
        pipe.execute()

    def _rule_problems(self, batch: ImportBatch) -> list[ImportProblem]:
        problems = _duplicate_problems(batch)
        for line, record in batch.records:
            problems += [ImportProblem(line, f"phones[{i}]", reason) for i, phone in enumerate(record.phones)
                         if (reason := phone_problem(phone, self._country_code))]
            problems += _department_problems(line, record, self._skills)
        return problems

    def _store(self, records: list[tuple[int | None, CitizenRecord]], check_only: bool) -> list[ImportProblem]:
        """Run IMPORT_CITIZENS; the registry numbers held by citizens outside the batch."""
        if not records:
            return []
        entries, stream = [], []
        for _, record in records:
            body = record.model_dump(mode="json", exclude={"consultations"})
            body["phones"] = list(dict.fromkeys(normalize_phone(p, self._country_code) for p in record.phones))
            history = sorted(record.consultations, key=lambda c: c.at, reverse=True)
            entries.append({"id": record.id, "number": record.registry_number or "", "phones": body["phones"],
                            "history": len(history)})
            stream += [json.dumps(body, ensure_ascii=False), *(c.model_dump_json() for c in history)]
        keys = [self._keys.citizen_ids, self._by_phone, self._by_number]
        reply = self._import(keys=keys, args=[self._keys.citizen_record_prefix, "1" if check_only else "0",
                                               json.dumps(entries), *stream])
        return [self._conflict(records, *reply[i:i + 3]) for i in range(0, len(reply), 3)]

    @staticmethod
    def _conflict(records, position, number, holder) -> ImportProblem:
        line, record = records[int(position) - 1]
        holder = holder.decode() if isinstance(holder, bytes) else holder
        number = number.decode() if isinstance(number, bytes) else number
        return ImportProblem(line, "registry_number",
                             f"{number} already belongs to citizen {holder}; {record.id} cannot have it too")

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
        if phone:  # a shared phone's entry lists every holder
            return _text(self._redis.hget(self._by_phone, self._phone(phone)) or "").split()
        if registry_number:
            found = self._redis.hget(self._by_number, registry_number)
            return [_text(found)] if found else []
        if name and birth_year:
            return sorted(_text(m) for m in self._redis.smembers(self._keys.citizen_by_name(name_key(name, birth_year))))
        raise BadRequest("query", "이름과 출생연도, 전화번호 또는 등록번호를 입력하세요 / "
                                  "give a name with a birth year, a phone or a registry number")

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
