from __future__ import annotations

import pytest

from ivr import FlowInvalid, PromptCatalog, load_flow, load_flow_file
from ivr.flow import MenuNode

from .conftest import CATALOG_PATH, FLOW_PATH, LANGUAGES, SKILLS


def problems(data, catalog, **overrides) -> dict[str, str]:
    kwargs = dict(catalog=catalog, skills=SKILLS, languages=LANGUAGES, fallback_skill="general")
    kwargs.update(overrides)
    with pytest.raises(FlowInvalid) as info:
        load_flow(data, **kwargs)
    found = {}
    for error in info.value.errors:
        found.setdefault(error.path, error.message)
    assert str(info.value).splitlines() == [f"{e.path}: {e.message}" for e in info.value.errors]
    return found


def test_demo_flow_and_catalog_validate(catalog):
    flow = load_flow_file(FLOW_PATH, catalog=catalog, skills=SKILLS, languages=LANGUAGES, fallback_skill="general")
    assert flow.start == "welcome"
    departments = flow.nodes["departments"]
    assert isinstance(departments, MenuNode)
    assert {o.intent for o in departments.options if o.intent} == SKILLS
    assert flow.nodes["language"].timeout == 4 and flow.nodes["language"].retries == 0
    assert departments.timeout == 5 and departments.retries == 2  # defaults


def test_unknown_next_and_start(demo_data, catalog):
    demo_data["nodes"]["welcome"]["next"] = "lanugage"
    demo_data["start"] = "hello"
    found = problems(demo_data, catalog)
    assert "lanugage" in found["nodes.welcome.next"]
    assert "hello" in found["start"]


def test_unreachable_node(demo_data, catalog):
    demo_data["nodes"]["orphan"] = {"type": "hangup"}
    found = problems(demo_data, catalog)
    assert list(found) == ["nodes.orphan"]
    assert "never reached" in found["nodes.orphan"]


def test_duplicate_menu_key(demo_data, catalog):
    demo_data["nodes"]["departments"]["options"][2]["key"] = "1"
    found = problems(demo_data, catalog)
    assert list(found) == ["nodes.departments.options[2].key"]
    assert "options[0]" in found["nodes.departments.options[2].key"]


def test_bad_menu_key(demo_data, catalog):
    demo_data["nodes"]["departments"]["options"][2]["key"] = "A"
    found = problems(demo_data, catalog)
    assert "nodes.departments.options[2].key" in found


def test_yaml_duplicate_mapping_key_is_refused_with_its_line(tmp_path, catalog):
    text = FLOW_PATH.read_text(encoding="utf-8")
    text += "  welcome: {type: hangup}\n"  # a second node called welcome
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FlowInvalid) as info:
        load_flow_file(path, catalog=catalog, skills=SKILLS, languages=LANGUAGES, fallback_skill="general")
    [error] = info.value.errors
    assert error.path == "nodes.welcome"
    last_line = len(text.splitlines())
    assert f"line {last_line}" in error.message and "duplicate key 'welcome'" in error.message


def test_speech_keyword_collision(demo_data, catalog):
    demo_data["nodes"]["departments"]["options"][1]["speech"]["en"].append("Tax")
    found = problems(demo_data, catalog)
    [(path, message)] = found.items()
    assert path == "nodes.departments.options[1].speech.en[4]"
    assert "options[0]" in message


def test_same_keyword_in_two_languages_is_fine(demo_data, catalog):
    demo_data["nodes"]["departments"]["options"][1]["speech"]["ko"].append("tax")  # en 'tax' is option 0
    load_flow(demo_data, catalog=catalog, skills=SKILLS, languages=LANGUAGES, fallback_skill="general")


def test_no_route_or_hangup_path(demo_data, catalog):
    nodes = demo_data["nodes"]
    nodes["identify"]["next"] = "loop_a"
    nodes["loop_a"] = {"type": "say", "prompt": "welcome", "next": "loop_b"}
    nodes["loop_b"] = {"type": "say", "prompt": "welcome", "next": "loop_a"}
    found = problems(demo_data, catalog)
    # identify, loop_a, loop_b cannot finish; route becomes unreachable
    assert "no route or hangup" in found["nodes.loop_a"]
    assert "no route or hangup" in found["nodes.loop_b"]
    assert "no route or hangup" in found["nodes.identify"]
    assert "never reached" in found["nodes.route"]
    assert "nodes.departments" not in found  # it can still reach goodbye


def test_silent_caller_loop(demo_data, catalog):
    demo_data["nodes"]["departments"]["on_fail"] = "language"
    demo_data["nodes"]["language"]["on_fail"] = "departments"
    found = problems(demo_data, catalog)
    assert "never answers" in found["nodes.departments.on_fail"]
    assert "never answers" in found["nodes.language.on_fail"]


def test_missing_prompt_translation(demo_data):
    data = {"prompts": {pid: dict(t) for pid, t in _catalog_dict().items()}}
    del data["prompts"]["connecting"]["en"]
    catalog = PromptCatalog.from_dict(data)
    found = problems(demo_data, catalog)
    assert list(found) == ["nodes.route.prompt"]
    assert "'connecting'" in found["nodes.route.prompt"] and "'en'" in found["nodes.route.prompt"]


def test_prompt_not_in_catalog(demo_data, catalog):
    demo_data["nodes"]["welcome"]["prompt"] = "welcom"
    found = problems(demo_data, catalog)
    assert list(found) == ["nodes.welcome.prompt"]


def test_prompt_with_placeholder_cannot_be_used_by_a_flow(demo_data, catalog):
    demo_data["nodes"]["welcome"]["prompt"] = "queue_position"
    found = problems(demo_data, catalog)
    assert "{position}" in found["nodes.welcome.prompt"]


def test_unknown_skill_intent_and_language(demo_data, catalog):
    demo_data["nodes"]["departments"]["options"][3]["intent"] = "welfar"
    demo_data["nodes"]["route"]["skill"] = "parking"
    demo_data["nodes"]["language"]["options"][1]["set_language"] = "fr"
    found = problems(demo_data, catalog)
    assert "welfar" in found["nodes.departments.options[3].intent"]
    assert "parking" in found["nodes.route.skill"]
    assert "fr" in found["nodes.language.options[1].set_language"]
    assert len(found) == 3


def test_fallback_skill_must_be_a_skill(demo_data, catalog):
    found = problems(demo_data, catalog, fallback_skill="operator")
    assert "operator" in found["(deployment)"]


def test_schema_problems_are_all_reported(demo_data, catalog):
    nodes = demo_data["nodes"]
    nodes["welcome"]["type"] = "speak"
    nodes["language"]["timeout"] = "four"
    nodes["identify"]["digitz"] = 8
    nodes["departments"]["options"][0]["intent"] = "welfar"  # reported alongside the shape errors
    found = problems(demo_data, catalog)
    assert "unknown node type 'speak'" in found["nodes.welcome.type"]
    assert "whole number" in found["nodes.language.timeout"]
    assert "not a field" in found["nodes.identify.digitz"]
    assert "nodes.departments.options[0].intent" in found
    # an unknown type does not cascade into reachability errors
    assert "nodes.language" not in found


def test_not_a_mapping(catalog):
    found = problems(["start", "nodes"], catalog)
    assert "(top level)" in found


def _catalog_dict():
    from ivr.yamlstrict import load_yaml

    return load_yaml(CATALOG_PATH.read_text(encoding="utf-8"))["prompts"]


def test_target_language_keyword_collides_in_the_call_language(demo_data, catalog):
    # the English option's "english" is also heard while the call is in Korean, so a Korean
    # keyword "english" on another option of the same menu would make the choice ambiguous
    demo_data["nodes"]["language"]["options"].insert(
        0, {"key": "3", "intent": "general", "speech": {"ko": ["English"]}, "next": "departments"})
    found = problems(demo_data, catalog)
    [(path, message)] = found.items()
    assert path == "nodes.language.options[2].speech.en[0]"
    assert "options[0]" in message and "'ko'" in message
