"""The pure flow interpreter: (call state, event) -> (new state, actions).

No I/O except through the `CitizenDirectory` it is handed. A live call never gets an
exception out of `start`/`handle`: whatever goes wrong (the flow changed under the call,
a bug, a loop without input) becomes a Route to the fallback skill in the call's language,
with the reason in `Step.error` for the driver to log.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Protocol

from ivr.actions import Action, Gather, Hangup, Route, Say
from ivr.events import CallStarted, CallerHungUp, DigitsEntered, Event, SpeechHeard
from ivr.flow import Flow, HangupNode, IdentifyNode, MenuNode, MenuOption, Node, RouteNode, SayNode, SetNode
from ivr.state import CallState

__all__ = ["CitizenDirectory", "CitizenMatch", "Step", "Interpreter", "MAX_NODES_PER_STEP"]

MAX_NODES_PER_STEP = 50


@dataclass(frozen=True)
class CitizenMatch:
    citizen_id: str
    priority: int = 0  # e.g. 10 for vulnerable callers; routing serves higher first


class CitizenDirectory(Protocol):
    def find_by_phone(self, phone: str) -> CitizenMatch | None: ...

    def find_by_registry_number(self, number: str) -> CitizenMatch | None: ...


@dataclass(frozen=True)
class Step:
    state: CallState
    actions: tuple[Action, ...]
    error: str | None = None  # set when the call was sent to the fallback skill because something broke


class _Broken(Exception):
    """The flow cannot go on for this call; the message says why."""


class _LookupFailed(Exception):
    pass


# whole utterances that name a phone key ("2", "two", "이번", "2번", "option 2", ...)
_SPOKEN_KEYS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "star": "*", "pound": "#", "hash": "#",
    "영": "0", "공": "0", "일": "1", "이": "2", "삼": "3", "사": "4", "오": "5", "육": "6",
    "칠": "7", "팔": "8", "구": "9", "하나": "1", "둘": "2", "셋": "3", "넷": "4", "다섯": "5",
    "여섯": "6", "일곱": "7", "여덟": "8", "아홉": "9", "별": "*", "샵": "#", "우물정": "#",
}
_FILLER = {"number", "option", "press", "key", "pressing", "please"}
_PUNCTUATION = re.compile(r"[.,!?;:'\"()\[\]{}]")


def _normalize(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", text).casefold().split())


def spoken_key(text: str) -> str | None:
    """The phone key a whole utterance names, if it names one."""
    words = [w for w in _normalize(text).split() if w not in _FILLER]
    if len(words) != 1:
        return None
    word = words[0]
    if word.endswith("번") and len(word) > 1:
        word = word[:-1]
    if len(word) == 1 and word in "0123456789*#":
        return word
    return _SPOKEN_KEYS.get(word)


def match_speech(options: tuple[MenuOption, ...], text: str, language: str) -> MenuOption | None:
    """The option whose keyword (heard in `language`) the utterance contains; the longest keyword wins,
    a tie between two options is no match. A spoken key ("2", "two") also selects."""
    heard = _normalize(text)
    if not heard:
        return None
    best: list[tuple[int, MenuOption]] = []
    for option in options:
        keywords = (_normalize(w) for w in option.heard_keywords(language))
        longest = max((len(k) for k in keywords if k and k in heard), default=0)
        if longest:
            best.append((longest, option))
    if best:
        best.sort(key=lambda pair: -pair[0])
        if len(best) == 1 or best[0][0] > best[1][0]:
            return best[0][1]
        return None
    key = spoken_key(text)
    if key is not None:
        for option in options:
            if option.key == key:
                return option
    return None


class Interpreter:
    def __init__(self, flow: Flow, *, default_language: str, fallback_skill: str) -> None:
        if not default_language or not fallback_skill:
            raise ValueError("default_language and fallback_skill are required")
        self.flow = flow
        self.default_language = default_language
        self.fallback_skill = fallback_skill

    # public API -----------------------------------------------------------------------------

    def start(self, call_id: str, caller: str, directory: CitizenDirectory) -> Step:
        state = CallState(call_id=call_id, caller=caller or "", node=None, language=self.default_language)
        try:
            return self._run(state, self.flow.start, directory, [])
        except Exception as exc:  # never lose a caller
            return self.fallback(state, _reason(exc), directory)

    def handle(self, state: CallState, event: Event, directory: CitizenDirectory) -> Step:
        if state.finished:
            return Step(state, ())
        if isinstance(event, CallerHungUp):
            return Step(replace(state, node=None, finished=True), ())
        try:
            return self._handle(state, event, directory)
        except Exception as exc:  # never lose a caller
            return self.fallback(state, _reason(exc), directory)

    def fallback(self, state: CallState, reason: str | None = None, directory: CitizenDirectory | None = None) -> Step:
        """Send the call to the fallback skill in its language (what a broken flow does).

        A caller not identified yet is looked up by caller ID first, when a directory is given,
        so that a vulnerable caller who could not get through the menus keeps their priority.
        """
        if directory is not None and state.citizen_id is None and state.caller:
            try:
                match = self._lookup(directory.find_by_phone, state.caller)
                if match is not None:
                    state = self._identified(state, match, "caller_id")
            except Exception:
                pass
        language = state.language if isinstance(state.language, str) and state.language else self.default_language
        priority = state.priority if isinstance(state.priority, int) else 0
        route = Route(
            skill=self.fallback_skill,
            language=language,
            priority=priority,
            citizen_id=state.citizen_id,
            verification=state.verification,
        )
        return Step(replace(state, node=None, finished=True, attempts=0), (route,), reason)

    # events at an input node ----------------------------------------------------------------

    def _handle(self, state: CallState, event: Event, directory: CitizenDirectory) -> Step:
        node = self.flow.nodes.get(state.node) if state.node is not None else None
        if node is None:
            raise _Broken(f"the call waits at node {state.node!r}, which the flow does not have")
        if not isinstance(node, (MenuNode, IdentifyNode)):
            raise _Broken(f"the call waits at node {state.node!r}, which is a {node.type} node, not an input node")
        if isinstance(event, CallStarted):  # a driver asking again: repeat the question
            return Step(state, (self._gather(node, state, retry_prompt=False),))
        if isinstance(node, MenuNode):
            return self._menu_input(node, state, event, directory)
        return self._identify_input(node, state, event, directory)

    def _menu_input(self, node: MenuNode, state: CallState, event: Event, directory: CitizenDirectory) -> Step:
        option = None
        if isinstance(event, DigitsEntered):
            option = node.option_for_key(event.digits.strip())
        elif isinstance(event, SpeechHeard):
            option = match_speech(node.options, event.text, state.language)
        if option is None:
            if state.attempts < node.retries:
                state = replace(state, attempts=state.attempts + 1)
                return Step(state, (self._gather(node, state, retry_prompt=True),))
            state = replace(state, attempts=0)
            if node.on_fail is None:
                return self.fallback(state, None, directory)
            return self._run(state, node.on_fail, directory, [])
        state = replace(
            state,
            language=option.set_language or state.language,
            intent=option.intent or state.intent,
            attempts=0,
        )
        return self._run(state, option.next, directory, [])

    def _identify_input(self, node: IdentifyNode, state: CallState, event: Event, directory: CitizenDirectory) -> Step:
        entered = None
        if isinstance(event, DigitsEntered):
            entered = event.digits.strip().rstrip("#")
        elif isinstance(event, SpeechHeard):
            entered = "".join(c for c in event.text if c in "0123456789")
        if not entered:  # no input: ask again without blaming the caller
            return self._identify_retry(node, state, directory, wrong=False)
        if len(entered) != node.digits or any(c not in "0123456789" for c in entered):
            return self._identify_retry(node, state, directory, wrong=True)
        try:
            match = self._lookup(directory.find_by_registry_number, entered)
        except _LookupFailed:
            # the directory is down: not the caller's fault, go on unverified
            return self._run(replace(state, attempts=0), node.next, directory, [])
        if match is None:
            return self._identify_retry(node, state, directory, wrong=True)
        state = self._identified(state, match, "registry_number")
        return self._run(state, node.next, directory, [])

    def _identify_retry(self, node: IdentifyNode, state: CallState, directory: CitizenDirectory, *, wrong: bool) -> Step:
        if state.attempts < node.retries:
            state = replace(state, attempts=state.attempts + 1)
            return Step(state, (self._gather(node, state, retry_prompt=wrong),))
        return self._run(replace(state, attempts=0), node.next, directory, [])  # unverified

    # running nodes until input is needed or the call leaves the flow -------------------------

    def _run(self, state: CallState, node_id: str, directory: CitizenDirectory, actions: list[Action]) -> Step:
        for _ in range(MAX_NODES_PER_STEP):
            node: Node | None = self.flow.nodes.get(node_id)
            if node is None:
                raise _Broken(f"node {node_id!r} does not exist")
            if isinstance(node, SayNode):
                actions.append(Say(node.prompt, state.language))
                node_id = node.next
            elif isinstance(node, SetNode):
                state = replace(state, language=node.language or state.language, intent=node.intent or state.intent)
                node_id = node.next
            elif isinstance(node, MenuNode):
                state = replace(state, node=node.id, attempts=0)
                actions.append(self._gather(node, state, retry_prompt=False))
                return Step(state, tuple(actions))
            elif isinstance(node, IdentifyNode):
                if state.citizen_id is None and state.caller:
                    try:
                        match = self._lookup(directory.find_by_phone, state.caller)
                    except _LookupFailed:
                        match = None  # ask for the registry number instead
                    if match is not None:
                        state = self._identified(state, match, "caller_id")
                if state.citizen_id is not None:
                    node_id = node.next
                    continue
                state = replace(state, node=node.id, attempts=0)
                actions.append(self._gather(node, state, retry_prompt=False))
                return Step(state, tuple(actions))
            elif isinstance(node, RouteNode):
                if node.prompt:
                    actions.append(Say(node.prompt, state.language))
                skill = node.skill or state.intent or self.fallback_skill
                actions.append(Route(skill, state.language, state.priority, state.citizen_id, state.verification))
                return Step(replace(state, node=None, attempts=0, finished=True), tuple(actions))
            elif isinstance(node, HangupNode):
                if node.prompt:
                    actions.append(Say(node.prompt, state.language))
                actions.append(Hangup())
                return Step(replace(state, node=None, attempts=0, finished=True), tuple(actions))
            else:
                raise _Broken(f"node {node_id!r} has an unknown type")
        raise _Broken(f"more than {MAX_NODES_PER_STEP} nodes ran without asking the caller anything")

    def _gather(self, node: MenuNode | IdentifyNode, state: CallState, *, retry_prompt: bool) -> Gather:
        language = state.language
        prompts = []
        if retry_prompt and node.invalid_prompt:
            prompts.append(Say(node.invalid_prompt, language))
        prompts.append(Say(node.prompt, language))
        if isinstance(node, IdentifyNode):
            return Gather(tuple(prompts), language, ("dtmf",), node.digits, "#", node.timeout, ())
        hints: list[str] = []
        for option in node.options:
            for word in option.heard_keywords(language):
                if word not in hints:
                    hints.append(word)
        finish = "" if node.option_for_key("#") else "#"
        mode = ("dtmf", "speech") if hints else ("dtmf",)
        return Gather(tuple(prompts), language, mode, 1, finish, node.timeout, tuple(hints))

    @staticmethod
    def _identified(state: CallState, match: CitizenMatch, verification: str) -> CallState:
        return replace(
            state,
            citizen_id=match.citizen_id,
            priority=max(state.priority, match.priority),
            verification=verification,
            attempts=0,
        )

    @staticmethod
    def _lookup(find: Callable[[str], CitizenMatch | None], value: str) -> CitizenMatch | None:
        try:
            match = find(value)
        except Exception as exc:
            raise _LookupFailed(str(exc)) from exc
        if match is None:
            return None
        citizen_id = getattr(match, "citizen_id", None)
        priority = getattr(match, "priority", None)
        if not (isinstance(citizen_id, str) and citizen_id) or isinstance(priority, bool) or not isinstance(priority, int):
            raise _LookupFailed(f"the directory returned {match!r}, not a CitizenMatch")
        return match


def _reason(exc: Exception) -> str:
    if isinstance(exc, _Broken):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"
