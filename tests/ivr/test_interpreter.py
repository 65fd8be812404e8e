from __future__ import annotations

import json

import pytest

from ivr import (
    CallerHungUp, CallStarted, CallState, CitizenMatch, DigitsEntered, Gather, Hangup, Interpreter,
    NoInput, Route, Say, SpeechHeard, load_flow,
)
from ivr.interpreter import MAX_NODES_PER_STEP

from .conftest import KNOWN_NUMBER, KNOWN_PHONE, LANGUAGES, SKILLS, UNKNOWN_PHONE, MemoryDirectory


def check(step):
    """Every step with actions ends with exactly one of Gather, Route, Hangup."""
    finals = [a for a in step.actions if isinstance(a, (Gather, Route, Hangup))]
    assert len(finals) == 1 and step.actions[-1] is finals[0], step.actions
    assert step.state.finished == (not isinstance(finals[0], Gather))
    return step


def play(interpreter, directory, caller, *events):
    step = check(interpreter.start("CA1", caller, directory))
    steps = [step]
    for event in events:
        step = check(interpreter.handle(step.state, event, directory))
        steps.append(step)
    return steps


def test_start_says_welcome_and_asks_for_language(interpreter, directory):
    [step] = play(interpreter, directory, KNOWN_PHONE)
    welcome, gather = step.actions
    assert welcome == Say("welcome", "ko")
    assert gather.prompts == (Say("language_menu", "ko"),)
    assert gather.num_digits == 1 and gather.timeout_seconds == 4
    assert gather.input == ("dtmf", "speech") and "영어" in gather.hints
    assert step.state.node == "language" and not step.state.finished


def test_known_caller_presses_2_for_fines(interpreter, directory):
    steps = play(interpreter, directory, KNOWN_PHONE, DigitsEntered("1"), DigitsEntered("2"))
    menu = steps[1].actions[-1]
    assert menu.prompts == (Say("department_menu", "ko"),) and menu.language == "ko"
    assert "과태료" in menu.hints and "parking" not in menu.hints
    last = steps[-1]
    assert last.actions == (
        Say("connecting", "ko"),
        Route(skill="fines", language="ko", priority=10, citizen_id="citizen-1", verification="caller_id"),
    )
    assert last.state.finished and last.state.node is None
    assert ("number", KNOWN_NUMBER) not in directory.lookups
    assert ("phone", KNOWN_PHONE) in directory.lookups


def test_english_via_key_9_then_speech(interpreter, directory):
    steps = play(interpreter, directory, KNOWN_PHONE, DigitsEntered("1"), DigitsEntered("9"),
                 SpeechHeard("I got a Parking Fine", 0.9))
    english_menu = steps[2].actions[-1]
    assert english_menu.language == "en" and english_menu.prompts == (Say("department_menu", "en"),)
    assert english_menu.input == ("dtmf", "speech") and "parking" in english_menu.hints
    assert steps[-1].actions[-1] == Route("fines", "en", 10, "citizen-1", "caller_id")
    assert steps[-1].actions[0] == Say("connecting", "en")


def test_speech_longest_keyword_wins_and_spoken_digits(interpreter, directory):
    # "taxi" contains the local_tax keyword "tax", but transport's "taxi" is longer
    steps = play(interpreter, directory, KNOWN_PHONE, DigitsEntered("2"), SpeechHeard("taxi"))
    assert steps[-1].actions[-1].skill == "transport"
    steps = play(interpreter, directory, KNOWN_PHONE, DigitsEntered("1"), SpeechHeard("5번"))
    assert steps[-1].actions[-1].skill == "water"
    steps = play(interpreter, directory, KNOWN_PHONE, DigitsEntered("2"), SpeechHeard("Two."))
    assert steps[-1].actions[-1].skill == "fines"


def test_unknown_caller_types_registry_number(interpreter, directory):
    steps = play(interpreter, directory, UNKNOWN_PHONE, DigitsEntered("1"), DigitsEntered("4"),
                 DigitsEntered(KNOWN_NUMBER))
    ask = steps[2].actions[-1]
    assert ask.prompts == (Say("enter_registry_number", "ko"),)
    assert ask.num_digits == 8 and ask.finish_on_key == "#" and ask.input == ("dtmf",)
    assert steps[2].state.node == "identify"
    assert steps[-1].actions[-1] == Route("welfare", "ko", 0, "citizen-2", "registry_number")


def test_wrong_registry_number_is_retried_then_routed_unverified(interpreter, directory):
    steps = play(interpreter, directory, UNKNOWN_PHONE, DigitsEntered("1"), DigitsEntered("1"),
                 DigitsEntered("11112222"), DigitsEntered("1234"))
    for step in steps[3:5]:  # two wrong numbers: told so and asked again
        assert step.actions[-1].prompts == (Say("registry_number_not_found", "ko"), Say("enter_registry_number", "ko"))
    assert [s.state.attempts for s in steps[2:5]] == [0, 1, 2]
    # retries: 2 means two re-asks; the third wrong number goes on unverified
    last = check(interpreter.handle(steps[-1].state, DigitsEntered("99999999"), directory))
    assert last.actions[-1] == Route("local_tax", "ko", 0, None, "none")
    # "1234" has the wrong length and never reached the directory
    assert ("number", "1234") not in directory.lookups


def test_no_input_retries_then_on_fail(interpreter, directory):
    # language menu: retries 0, on_fail -> departments (stays Korean)
    steps = play(interpreter, directory, KNOWN_PHONE, NoInput())
    assert steps[1].state.node == "departments" and steps[1].actions[-1].prompts == (Say("department_menu", "ko"),)
    # departments: retries 2 with invalid_prompt, then no on_fail -> fallback skill
    steps = play(interpreter, directory, KNOWN_PHONE, NoInput(), NoInput(), DigitsEntered("7"), NoInput())
    assert steps[2].actions[-1].prompts == (Say("invalid_choice", "ko"), Say("department_menu", "ko"))
    assert steps[3].state.attempts == 2
    # not identified yet: looked up by caller ID on the way out, so a vulnerable caller keeps priority
    assert steps[-1].actions == (Route("general", "ko", 10, "citizen-1", "caller_id"),)
    assert steps[-1].error is None  # a planned exit, not a breakage


def test_on_fail_node_is_followed(catalog, directory):
    data = {
        "start": "menu",
        "nodes": {
            "menu": {"type": "menu", "prompt": "department_menu", "retries": 1, "on_fail": "bye",
                     "options": [{"key": "1", "intent": "water", "next": "route"}]},
            "route": {"type": "route"},
            "bye": {"type": "hangup", "prompt": "goodbye"},
        },
    }
    flow = load_flow(data, catalog=catalog, skills=SKILLS, languages=LANGUAGES, fallback_skill="general")
    interpreter = Interpreter(flow, default_language="en", fallback_skill="general")
    steps = play(interpreter, directory, UNKNOWN_PHONE, SpeechHeard("hello"), NoInput())
    assert steps[1].actions[-1].prompts == (Say("department_menu", "en"),)  # no invalid_prompt set
    assert steps[-1].actions == (Say("goodbye", "en"), Hangup())


def test_state_round_trips_mid_call(interpreter, directory):
    steps = play(interpreter, directory, UNKNOWN_PHONE, DigitsEntered("2"), DigitsEntered("3"), DigitsEntered("00000000"))
    state = steps[-1].state
    assert state.node == "identify" and state.language == "en" and state.intent == "transport" and state.attempts == 1
    restored = CallState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    step = check(interpreter.handle(restored, DigitsEntered(KNOWN_NUMBER), directory))
    assert step.actions[-1] == Route("transport", "en", 0, "citizen-2", "registry_number")


def test_from_dict_refuses_garbage():
    with pytest.raises(ValueError):
        CallState.from_dict({"call_id": "x"})
    with pytest.raises(ValueError):
        CallState.from_dict({"call_id": "x", "caller": "", "node": None, "language": "ko", "attempts": "1"})


def test_vanished_node_routes_to_fallback(catalog, demo_data, directory, interpreter):
    steps = play(interpreter, directory, UNKNOWN_PHONE, DigitsEntered("2"), DigitsEntered("1"))
    waiting = steps[-1].state
    assert waiting.node == "identify"
    # the flow is republished without the identify node while the caller is typing
    demo_data["nodes"]["departments"]["options"] = [
        dict(o, next="route") if o.get("next") == "identify" else o for o in demo_data["nodes"]["departments"]["options"]
    ]
    del demo_data["nodes"]["identify"]
    new_flow = load_flow(demo_data, catalog=catalog, skills=SKILLS, languages=LANGUAGES, fallback_skill="general")
    new_interpreter = Interpreter(new_flow, default_language="ko", fallback_skill="general")
    step = check(new_interpreter.handle(waiting, DigitsEntered(KNOWN_NUMBER), directory))
    assert step.actions == (Route("general", "en", 0, None, "none"),)
    assert "identify" in step.error and step.state.finished


def test_internal_errors_and_loops_route_to_fallback(interpreter, demo_flow):
    class Broken:
        def find_by_phone(self, phone):
            raise ConnectionError("registry down")

        def find_by_registry_number(self, number):
            raise ConnectionError("registry down")

    # directory failures: caller id lookup falls through to asking, registry lookup goes on unverified
    steps = play(interpreter, Broken(), KNOWN_PHONE, DigitsEntered("1"), DigitsEntered("5"), DigitsEntered(KNOWN_NUMBER))
    assert steps[2].state.node == "identify"
    assert steps[-1].actions[-1] == Route("water", "ko", 0, None, "none")

    class Weird:  # answers that are not CitizenMatch objects count as a failed lookup
        def find_by_phone(self, phone):
            return "not a match"

        def find_by_registry_number(self, number):
            return CitizenMatch("citizen-9", priority="high")

    steps = play(interpreter, Weird(), KNOWN_PHONE, DigitsEntered("1"), DigitsEntered("5"), DigitsEntered(KNOWN_NUMBER))
    assert steps[2].state.node == "identify"
    assert steps[-1].actions[-1] == Route("water", "ko", 0, None, "none")

    # an internal error while handling an event
    step = check(interpreter.start("CA2", KNOWN_PHONE, directory := MemoryDirectory()))

    def explode(*args, **kwargs):
        raise RuntimeError("bug")

    interpreter._gather = explode
    step = check(interpreter.handle(step.state, DigitsEntered("1"), directory))
    assert step.actions == (Route("general", "ko", 10, "citizen-1", "caller_id"),)
    assert "RuntimeError" in step.error and step.state.finished

    # a say loop (which validation would refuse) is cut off and routed
    from dataclasses import replace
    from ivr.flow import SayNode

    looping = replace(demo_flow, nodes={**demo_flow.nodes, "welcome": SayNode("welcome", "welcome", "welcome")})
    step = check(Interpreter(looping, default_language="en", fallback_skill="general").start("CA3", "", MemoryDirectory()))
    assert step.actions == (Route("general", "en", 0, None, "none"),)
    assert str(MAX_NODES_PER_STEP) in step.error


def test_hangup_and_events_after_finish(interpreter, directory):
    steps = play(interpreter, directory, KNOWN_PHONE, DigitsEntered("1"))
    hung = interpreter.handle(steps[-1].state, CallerHungUp(), directory)
    assert hung.actions == () and hung.state.finished and hung.state.node is None
    assert interpreter.handle(hung.state, DigitsEntered("1"), directory).actions == ()
    # star ends the call politely
    steps = play(interpreter, directory, KNOWN_PHONE, DigitsEntered("1"), DigitsEntered("*"))
    assert steps[-1].actions == (Say("goodbye", "ko"), Hangup())
    assert interpreter.handle(steps[-1].state, NoInput(), directory).actions == ()


def test_call_started_again_repeats_the_question(interpreter, directory):
    steps = play(interpreter, directory, KNOWN_PHONE, DigitsEntered("1"))
    again = check(interpreter.handle(steps[-1].state, CallStarted(KNOWN_PHONE), directory))
    assert again.state == steps[-1].state and again.actions == steps[-1].actions


def test_hash_key_menu_has_no_finish_key(catalog, directory):
    data = {
        "start": "menu",
        "nodes": {
            "menu": {"type": "menu", "prompt": "department_menu",
                     "options": [{"key": "#", "next": "route"}, {"key": "1", "next": "route", "intent": "water"}]},
            "route": {"type": "route", "skill": "general"},
        },
    }
    flow = load_flow(data, catalog=catalog, skills=SKILLS, languages=LANGUAGES, fallback_skill="general")
    interpreter = Interpreter(flow, default_language="ko", fallback_skill="general")
    [step] = play(interpreter, directory, UNKNOWN_PHONE)
    assert step.actions[-1].finish_on_key == "" and step.actions[-1].input == ("dtmf",)
    step = check(interpreter.handle(step.state, DigitsEntered("1"), directory))
    assert step.actions[-1].skill == "general"  # a fixed skill on the route node wins over the intent


def test_saying_english_in_korean_picks_the_english_option(interpreter, directory):
    # the call is still in Korean; "English" is the English keyword of the option that sets English
    [start] = play(interpreter, directory, KNOWN_PHONE)
    assert "english" in start.actions[-1].hints
    steps = play(interpreter, directory, KNOWN_PHONE, SpeechHeard("English", 0.9))
    menu = steps[-1].actions[-1]
    assert menu.language == "en" and menu.prompts == (Say("department_menu", "en"),)


def test_target_language_keywords_do_not_leak_into_other_options(interpreter, directory):
    # "korean" is the English keyword of the Korean option: heard in English only, not in Korean
    steps = play(interpreter, directory, KNOWN_PHONE, SpeechHeard("korean", 0.9))
    assert steps[-1].state.language == "ko" and steps[-1].state.node == "departments"
    assert steps[-1].actions[-1].prompts[0] == Say("department_menu", "ko")
