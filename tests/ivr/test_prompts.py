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


# -- what a text says: passages in another language, digits read one by one -----------------
from ivr.prompts import Passage  # noqa: E402

BILINGUAL = {"prompts": {
    "menu": {"ko": "한국어는 1번을 누르십시오. [en: For English, press 2.]",
             "en": "[ko: 한국어는 1번을 누르십시오.] For English, press 2."},
    "welcome": {"ko": "서울시 [digits: 120] 다산콜센터입니다.", "en": "Seoul [digits: 120] Dasan Call Center."},
    "position": {"ko": "{position}번째입니다. [en: You are number {position}.]", "en": "You are number {position}."},
}}


def test_a_passage_in_another_language_is_spoken_in_that_language():
    catalog = PromptCatalog.from_dict(BILINGUAL)
    assert catalog.spoken("menu", "ko") == (Passage("ko", "한국어는 1번을 누르십시오."),
                                            Passage("en", "For English, press 2."))
    assert catalog.spoken("menu", "en") == (Passage("ko", "한국어는 1번을 누르십시오."),
                                            Passage("en", "For English, press 2."))
    assert catalog.spoken("position", "ko", position=3) == (Passage("ko", "3번째입니다."),
                                                            Passage("en", "You are number 3."))
    assert catalog.text("menu", "ko") == "한국어는 1번을 누르십시오. [en: For English, press 2.]"  # as written


def test_digits_are_spelled_as_a_keypad_reads_them_in_each_language():
    catalog = PromptCatalog.from_dict(BILINGUAL)
    # Korean says a phone number's digits with 공 for 0: 120 is 일이공, not 백이십
    assert catalog.spoken("welcome", "ko") == (Passage("ko", "서울시 일이공 다산콜센터입니다."),)
    assert catalog.spoken("welcome", "en") == (Passage("en", "Seoul one two zero Dasan Call Center."),)


@pytest.mark.parametrize("text, message", [
    ("press [en: two", "'[' without its ']'"),
    ("press two]", "']' without its '['"),
    ("[en: press [digits: 2]]", "cannot be nested"),
    ("[digits: 12a]", "only the digits 0-9"),
    ("[EN: x]", "not a language code"),
    ("[en: ]", "is empty"),
])
def test_markup_mistakes_are_refused_with_the_prompt_named(text, message):
    with pytest.raises(CatalogInvalid) as info:
        PromptCatalog.from_dict({"prompts": {"p": {"ko": text}}})
    [error] = info.value.errors
    assert error.path == "prompts.p.ko" and message in error.message


def test_demo_catalog_keeps_each_language_in_its_own_passages(catalog):
    # espeak-ng (and Polly) read every digit of a Korean text in Korean: "press 2" in a Korean
    # prompt became "press 이". Each English sentence must be an English passage, and back.
    for prompt_id in sorted(catalog.prompt_ids()):
        for language in sorted(catalog.languages(prompt_id)):
            params = {name: 7 for name in catalog.placeholders(prompt_id)}
            for passage in catalog.spoken(prompt_id, language, **params):
                if passage.language == "ko":
                    assert not any("a" <= c.lower() <= "z" for c in passage.text), (prompt_id, language, passage)
                else:
                    assert not any("\uac00" <= c <= "\ud7a3" for c in passage.text), (prompt_id, language, passage)
                assert "120" not in passage.text, (prompt_id, language, passage)  # the hotline's name: 일이공
