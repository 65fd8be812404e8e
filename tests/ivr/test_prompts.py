from __future__ import annotations

import pytest
import yaml

from ivr import CatalogInvalid, PromptCatalog, UniqueKeyLoader, UnknownPrompt, load_catalog

from .conftest import CATALOG_PATH


def test_demo_catalog_has_driver_prompts_in_korean_and_english(catalog):
    needed = ["queue_position", "please_hold", "agent_connecting", "goodbye", "system_error", "welcome"]
    assert catalog.missing(needed, ["ko", "en"]) == []
    assert catalog.text("queue_position", "ko", position=3) == "현재 대기 순서는 3번째입니다."
    assert catalog.text("queue_position", "en", position=3) == "You are number 3 in line."


def test_text_errors(catalog):
    with pytest.raises(UnknownPrompt):
        catalog.text("no_such_prompt", "ko")
    with pytest.raises(UnknownPrompt):
        catalog.text("welcome", "fr")
    with pytest.raises(ValueError, match="position"):
        catalog.text("queue_position", "ko")


def test_missing_lists_each_absent_pair():
    catalog = PromptCatalog.from_dict({"prompts": {"a": {"ko": "가"}, "b": {"ko": "나", "en": "B"}}})
    assert catalog.missing(["a", "b", "c"], ["ko", "en"]) == [("a", "en"), ("c", "en"), ("c", "ko")]


def test_catalog_refuses_duplicate_keys(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("prompts:\n  welcome:\n    ko: 가\n    ko: 나\n    en: A\n", encoding="utf-8")
    with pytest.raises(CatalogInvalid) as info:
        load_catalog(path)
    assert [e.path for e in info.value.errors] == ["prompts.welcome.ko"]
    assert "line 4" in info.value.errors[0].message


def test_catalog_refuses_mismatched_placeholders():
    with pytest.raises(CatalogInvalid) as info:
        PromptCatalog.from_dict({"prompts": {"q": {"ko": "{position}번째", "en": "number {pos}"}}})
    assert info.value.errors[0].path == "prompts.q"


def test_unique_key_loader_is_a_yaml_loader():
    with pytest.raises(yaml.YAMLError, match="duplicate key 'a'"):
        yaml.load("a: 1\na: 2\n", Loader=UniqueKeyLoader)
    assert yaml.load("a: 1\nb: [1, 2]\n", Loader=UniqueKeyLoader) == {"a": 1, "b": [1, 2]}


def test_catalog_file_is_loaded(catalog):
    assert "department_menu" in catalog
    assert catalog.text("department_menu", "ko").startswith("원하시는 업무")
    assert load_catalog(CATALOG_PATH).text("goodbye", "en").endswith("Goodbye.")
