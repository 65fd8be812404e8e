"""Pure IVR tests: the demo flow and catalog from the repository, and an in-memory citizen directory."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from ivr import CitizenMatch, Interpreter, load_catalog, load_flow
from ivr.yamlstrict import load_yaml

ROOT = Path(__file__).resolve().parents[2]
FLOW_PATH = ROOT / "flows" / "main.yaml"
CATALOG_PATH = ROOT / "prompts" / "catalog.yaml"
SKILLS = {"local_tax", "fines", "transport", "welfare", "water", "general"}
LANGUAGES = {"ko", "en"}

KNOWN_PHONE = "+821012345678"      # a vulnerable citizen whose number is on file
KNOWN_NUMBER = "20240001"          # registry number of another citizen
UNKNOWN_PHONE = "+821099990000"


class MemoryDirectory:
    def __init__(self) -> None:
        self.phones = {KNOWN_PHONE: CitizenMatch("citizen-1", priority=10)}
        self.numbers = {KNOWN_NUMBER: CitizenMatch("citizen-2")}
        self.lookups: list[tuple[str, str]] = []

    def find_by_phone(self, phone: str) -> CitizenMatch | None:
        self.lookups.append(("phone", phone))
        return self.phones.get(phone)

    def find_by_registry_number(self, number: str) -> CitizenMatch | None:
        self.lookups.append(("number", number))
        return self.numbers.get(number)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(CATALOG_PATH)


@pytest.fixture()
def demo_data():
    """The demo flow as a plain dict, fresh for each test to mutate."""
    return copy.deepcopy(load_yaml(FLOW_PATH.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def demo_flow(catalog):
    data = load_yaml(FLOW_PATH.read_text(encoding="utf-8"))
    return load_flow(data, catalog=catalog, skills=SKILLS, languages=LANGUAGES, fallback_skill="general")


@pytest.fixture()
def interpreter(demo_flow):
    return Interpreter(demo_flow, default_language="ko", fallback_skill="general")


@pytest.fixture()
def directory():
    return MemoryDirectory()
