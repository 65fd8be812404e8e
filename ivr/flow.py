"""The call-flow model: frozen dataclasses parsed from plain dicts (a YAML document).

`parse_flow(data)` checks the shape of every node and field and returns the model plus
every problem found; `ivr.validate.load_flow` adds the checks that need the whole graph,
the catalog, the skills and the languages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

from ivr.errors import FlowError

DTMF_KEYS = frozenset("0123456789*#")
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

DEFAULT_TIMEOUT = 5
DEFAULT_RETRIES = 2
DEFAULT_DIGITS = 8


@dataclass(frozen=True)
class MenuOption:
    key: str
    next: str
    intent: str | None = None
    set_language: str | None = None
    speech: tuple[tuple[str, tuple[str, ...]], ...] = ()  # ((language, (keyword, ...)), ...)

    def keywords(self, language: str) -> tuple[str, ...]:
        for lang, words in self.speech:
            if lang == language:
                return words
        return ()

    def heard_keywords(self, language: str) -> tuple[str, ...]:
        """The keywords that pick this option while the call is in `language`: that language's,
        and those of the language the option switches to ("English" picks English in a Korean call)."""
        own = self.keywords(language)
        if not self.set_language or self.set_language == language:
            return own
        return own + tuple(w for w in self.keywords(self.set_language) if w not in own)


@dataclass(frozen=True)
class SayNode:
    id: str
    prompt: str
    next: str
    type: str = field(default="say", init=False)


@dataclass(frozen=True)
class MenuNode:
    id: str
    prompt: str
    options: tuple[MenuOption, ...]
    invalid_prompt: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    on_fail: str | None = None
    type: str = field(default="menu", init=False)

    def option_for_key(self, key: str) -> MenuOption | None:
        for option in self.options:
            if option.key == key:
                return option
        return None


@dataclass(frozen=True)
class IdentifyNode:
    id: str
    prompt: str
    next: str
    invalid_prompt: str | None = None
    digits: int = DEFAULT_DIGITS
    retries: int = DEFAULT_RETRIES
    timeout: int = DEFAULT_TIMEOUT
    type: str = field(default="identify", init=False)


@dataclass(frozen=True)
class SetNode:
    id: str
    next: str
    intent: str | None = None
    language: str | None = None
    type: str = field(default="set", init=False)


@dataclass(frozen=True)
class RouteNode:
    id: str
    prompt: str | None = None
    skill: str | None = None
    type: str = field(default="route", init=False)


@dataclass(frozen=True)
class HangupNode:
    id: str
    prompt: str | None = None
    type: str = field(default="hangup", init=False)


Node = Union[SayNode, MenuNode, IdentifyNode, SetNode, RouteNode, HangupNode]
NODE_TYPES = ("say", "menu", "identify", "set", "route", "hangup")
TERMINAL_TYPES = frozenset({"route", "hangup"})

_FIELDS = {
    "say": {"type", "prompt", "next"},
    "menu": {"type", "prompt", "invalid_prompt", "timeout", "retries", "options", "on_fail"},
    "identify": {"type", "prompt", "invalid_prompt", "digits", "retries", "timeout", "next"},
    "set": {"type", "intent", "language", "next"},
    "route": {"type", "prompt", "skill"},
    "hangup": {"type", "prompt"},
}
_OPTION_FIELDS = {"key", "next", "intent", "set_language", "speech"}


@dataclass(frozen=True)
class Flow:
    start: str
    nodes: dict[str, Node]

    def node(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)

    def prompt_uses(self) -> list[tuple[str, str]]:
        """(path, prompt id) for every prompt the flow names."""
        uses = []
        for node_id, node in self.nodes.items():
            for name in ("prompt", "invalid_prompt"):
                value = getattr(node, name, None)
                if value:
                    uses.append((f"nodes.{node_id}.{name}", value))
        return uses


def successors(node: Node) -> list[tuple[str, str]]:
    """(field path relative to the node, target id) for every edge out of a node."""
    if isinstance(node, (SayNode, IdentifyNode, SetNode)):
        return [("next", node.next)]
    if isinstance(node, MenuNode):
        edges = [(f"options[{i}].next", option.next) for i, option in enumerate(node.options)]
        if node.on_fail is not None:
            edges.append(("on_fail", node.on_fail))
        return edges
    return []


class _Reader:
    """Field readers that record a FlowError and return None instead of raising."""

    def __init__(self) -> None:
        self.errors: list[FlowError] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(FlowError(path, message))

    def string(self, data: dict, key: str, path: str, *, required: bool) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.error(f"{path}.{key}", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(f"{path}.{key}", f"must be a non-empty text, not {_show(value)}")
            return None
        return value

    def node_ref(self, data: dict, key: str, path: str, *, required: bool) -> str | None:
        value = self.string(data, key, path, required=required)
        if value is not None and not _ID.match(value):
            self.error(f"{path}.{key}", f"{value!r} is not a node name (letters, digits, '_' or '-')")
            return None
        return value

    def integer(self, data: dict, key: str, path: str, default: int, low: int, high: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(f"{path}.{key}", f"must be a whole number, not {_show(value)}")
            return default
        if not low <= value <= high:
            self.error(f"{path}.{key}", f"must be between {low} and {high}, not {value}")
            return default
        return value

    def unknown_fields(self, data: dict, allowed: set[str], path: str, what: str) -> None:
        for key in data:
            if key not in allowed:
                self.error(f"{path}.{key}", f"is not a field of {what} (allowed: {', '.join(sorted(allowed))})")


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _parse_option(reader: _Reader, raw: Any, path: str) -> MenuOption | None:
    if not isinstance(raw, dict):
        reader.error(path, "a menu option must be a mapping with at least 'key' and 'next'")
        return None
    reader.unknown_fields(raw, _OPTION_FIELDS, path, "a menu option")
    key = raw.get("key")
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 9:
        key = str(key)  # `key: 1` written without quotes
    if key is None:
        reader.error(f"{path}.key", "is required")
    elif not isinstance(key, str) or key not in DTMF_KEYS:
        reader.error(f"{path}.key", f"must be one phone key: 0-9, * or #, not {_show(key)}")
        key = None
    nxt = reader.node_ref(raw, "next", path, required=True)
    intent = reader.string(raw, "intent", path, required=False)
    set_language = reader.string(raw, "set_language", path, required=False)
    speech: list[tuple[str, tuple[str, ...]]] = []
    raw_speech = raw.get("speech")
    if raw_speech is not None:
        if not isinstance(raw_speech, dict):
            reader.error(f"{path}.speech", "must map a language code to a list of keywords")
        else:
            for language, words in raw_speech.items():
                wpath = f"{path}.speech.{language}"
                if isinstance(words, str):
                    words = [words]
                if not isinstance(words, list) or not words:
                    reader.error(wpath, "must be a non-empty list of keywords")
                    continue
                good = []
                for i, word in enumerate(words):
                    if not isinstance(word, str) or not word.strip():
                        reader.error(f"{wpath}[{i}]", f"a keyword must be a non-empty text, not {_show(word)}")
                    else:
                        good.append(word.strip())
                speech.append((str(language), tuple(good)))
    if key is None or nxt is None:
        return None
    return MenuOption(key=key, next=nxt, intent=intent, set_language=set_language, speech=tuple(speech))


def _parse_node(reader: _Reader, node_id: str, raw: dict, path: str) -> Node | None:
    kind = raw.get("type")
    if kind not in NODE_TYPES:
        reader.error(f"{path}.type", f"unknown node type {_show(kind)} (expected one of: {', '.join(NODE_TYPES)})")
        return None
    before = len(reader.errors)
    reader.unknown_fields(raw, _FIELDS[kind], path, f"a {kind} node")
    if kind == "say":
        node = SayNode(node_id, reader.string(raw, "prompt", path, required=True),
                       reader.node_ref(raw, "next", path, required=True))
    elif kind == "menu":
        options: list[MenuOption] = []
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            reader.error(f"{path}.options", "must be a non-empty list of options")
        else:
            for i, raw_option in enumerate(raw_options):
                option = _parse_option(reader, raw_option, f"{path}.options[{i}]")
                if option is not None:
                    options.append(option)
        node = MenuNode(
            node_id,
            prompt=reader.string(raw, "prompt", path, required=True),
            options=tuple(options),
            invalid_prompt=reader.string(raw, "invalid_prompt", path, required=False),
            timeout=reader.integer(raw, "timeout", path, DEFAULT_TIMEOUT, 1, 60),
            retries=reader.integer(raw, "retries", path, DEFAULT_RETRIES, 0, 10),
            on_fail=reader.node_ref(raw, "on_fail", path, required=False),
        )
    elif kind == "identify":
        node = IdentifyNode(
            node_id,
            prompt=reader.string(raw, "prompt", path, required=True),
            next=reader.node_ref(raw, "next", path, required=True),
            invalid_prompt=reader.string(raw, "invalid_prompt", path, required=False),
            digits=reader.integer(raw, "digits", path, DEFAULT_DIGITS, 1, 32),
            retries=reader.integer(raw, "retries", path, DEFAULT_RETRIES, 0, 10),
            timeout=reader.integer(raw, "timeout", path, DEFAULT_TIMEOUT, 1, 60),
        )
    elif kind == "set":
        node = SetNode(
            node_id,
            next=reader.node_ref(raw, "next", path, required=True),
            intent=reader.string(raw, "intent", path, required=False),
            language=reader.string(raw, "language", path, required=False),
        )
        if "intent" not in raw and "language" not in raw:
            reader.error(path, "a set node must set 'intent' or 'language' (or both)")
    elif kind == "route":
        node = RouteNode(node_id, prompt=reader.string(raw, "prompt", path, required=False),
                         skill=reader.string(raw, "skill", path, required=False))
    else:
        node = HangupNode(node_id, prompt=reader.string(raw, "prompt", path, required=False))
    return node if len(reader.errors) == before else None


def parse_flow(data: Any) -> tuple[Flow | None, list[FlowError], dict[str, Any]]:
    """Check the shape of a flow document.

    Returns (flow or None when any node is malformed, errors, the raw node mappings by id).
    """
    reader = _Reader()
    if not isinstance(data, dict):
        reader.error("(top level)", "a flow must be a mapping with 'start' and 'nodes'")
        return None, reader.errors, {}
    reader.unknown_fields(data, {"start", "nodes", "name", "description", "version"}, "", "a flow")
    # unknown_fields built paths like ".foo"; strip the leading dot for top-level keys
    reader.errors = [FlowError(e.path.lstrip("."), e.message) for e in reader.errors]
    start = reader.node_ref(data, "start", "", required=True)
    reader.errors = [FlowError(e.path.lstrip("."), e.message) for e in reader.errors]
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        reader.error("nodes", "must be a non-empty mapping of node name to node")
        return None, reader.errors, {}
    nodes: dict[str, Node] = {}
    raws: dict[str, Any] = {}
    complete = True
    for node_id, raw in raw_nodes.items():
        path = f"nodes.{node_id}"
        if not isinstance(node_id, str) or not _ID.match(node_id):
            reader.error(path, "a node name must be letters, digits, '_' or '-'")
            complete = False
            continue
        raws[node_id] = raw
        if not isinstance(raw, dict):
            reader.error(path, f"a node must be a mapping with a 'type', not {_show(raw)}")
            complete = False
            continue
        node = _parse_node(reader, node_id, raw, path)
        if node is None:
            complete = False
        else:
            nodes[node_id] = node
    if not complete or start is None:
        return None, reader.errors, raws
    return Flow(start=start, nodes=nodes), reader.errors, raws
