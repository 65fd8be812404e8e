"""Whole-flow validation: `load_flow(data, ...)` returns a `Flow` or raises `FlowInvalid` with ALL problems.

Shape problems come from `ivr.flow.parse_flow`. The checks here read the raw node mappings
(so one malformed field does not hide the other problems) and cover: references to unknown
nodes, unreachable nodes, menu key and speech keyword collisions, intents/skills and
languages the deployment does not have, nodes from which no route or hangup can be reached,
menus whose no-answer path loops forever, and prompts missing a translation.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from ivr.errors import FlowError, FlowInvalid
from ivr.flow import DTMF_KEYS, NODE_TYPES, Flow, parse_flow
from ivr.prompts import PromptCatalog
from ivr.yamlstrict import load_yaml, yaml_error

__all__ = ["load_flow", "load_flow_file", "check_flow"]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _options(raw: dict) -> list[tuple[int, dict]]:
    options = raw.get("options")
    if raw.get("type") != "menu" or not isinstance(options, list):
        return []
    return [(i, o) for i, o in enumerate(options) if isinstance(o, dict)]


def _edges(raw: Any) -> list[tuple[str, str]]:
    """(field path relative to the node, target) for every textual reference in a raw node."""
    if not isinstance(raw, dict):
        return []
    edges = []
    for name in ("next", "on_fail"):
        if _text(raw.get(name)):
            edges.append((name, raw[name]))
    for i, option in _options(raw):
        if _text(option.get("next")):
            edges.append((f"options[{i}].next", option["next"]))
    return edges


def _silent_next(raw: dict) -> str | None:
    """Where a caller who never answers goes from this node (None: the call leaves the flow)."""
    kind = raw.get("type")
    if kind in ("say", "set", "identify"):
        return _text(raw.get("next"))
    if kind == "menu":
        return _text(raw.get("on_fail"))  # without on_fail: the fallback route
    return None


def check_flow(
    data: Any,
    *,
    catalog: PromptCatalog,
    skills: Iterable[str],
    languages: Iterable[str],
    fallback_skill: str,
) -> tuple[Flow | None, list[FlowError]]:
    """Every problem of a flow document (empty list: valid) and the flow when its shape is sound."""
    skills = set(skills)
    languages = set(languages)
    flow, errors, raws = parse_flow(data)
    err = lambda path, message: errors.append(FlowError(path, message))  # noqa: E731

    if fallback_skill not in skills:
        err("(deployment)", f"the fallback skill {fallback_skill!r} is not one of the skills ({', '.join(sorted(skills))})")
    if not raws:
        return None, errors
    start = _text(data.get("start"))
    if start and start not in raws:
        err("start", f"names node {start!r}, which does not exist")

    # references
    for node_id, raw in raws.items():
        for rel, target in _edges(raw):
            if target not in raws:
                err(f"nodes.{node_id}.{rel}", f"names node {target!r}, which does not exist")

    # reachability from start
    if start in raws:
        seen = {start}
        todo = [start]
        while todo:
            for _rel, target in _edges(raws[todo.pop()]):
                if target in raws and target not in seen:
                    seen.add(target)
                    todo.append(target)
        for node_id in raws:
            if node_id not in seen:
                err(f"nodes.{node_id}", f"is never reached from the start node {start!r}")

    # a route or hangup must be reachable from every node; nodes of unknown type or with broken
    # references count as exits here so one mistake is reported once, not at every node before it
    def exits(raw: Any) -> bool:
        if not isinstance(raw, dict) or raw.get("type") not in NODE_TYPES:
            return True
        kind = raw["type"]
        if kind in ("route", "hangup"):
            return True
        if kind == "menu" and not _text(raw.get("on_fail")):
            return True  # retries used up -> the fallback route
        return any(target not in raws for _rel, target in _edges(raw))

    can_finish = {node_id for node_id, raw in raws.items() if exits(raw)}
    changed = True
    while changed:
        changed = False
        for node_id, raw in raws.items():
            if node_id not in can_finish and any(t in can_finish for _r, t in _edges(raw)):
                can_finish.add(node_id)
                changed = True
    for node_id in raws:
        if node_id not in can_finish:
            err(f"nodes.{node_id}", "no route or hangup node can be reached from here, so a call would never leave the flow")

    # menus whose no-answer path loops: a silent caller would be asked forever
    for node_id, raw in raws.items():
        if not isinstance(raw, dict) or raw.get("type") != "menu" or node_id not in can_finish:
            continue
        if not _text(raw.get("on_fail")):
            continue
        path, current = [node_id], _silent_next(raw)
        while current in raws and current not in path and isinstance(raws[current], dict):
            path.append(current)
            current = _silent_next(raws[current])
        if current == node_id:
            loop = " -> ".join(path + [node_id])
            err(f"nodes.{node_id}.on_fail", f"a caller who never answers goes round {loop} forever; end the loop with a route or hangup")

    # menus: keys, speech keywords, intents, languages
    for node_id, raw in raws.items():
        if not isinstance(raw, dict):
            continue
        base = f"nodes.{node_id}"
        keys: dict[str, int] = {}
        words: dict[tuple[str, str], int] = {}
        for i, option in _options(raw):
            opath = f"{base}.options[{i}]"
            key = option.get("key")
            if isinstance(key, int) and not isinstance(key, bool):
                key = str(key)
            if isinstance(key, str) and key in DTMF_KEYS:
                if key in keys:
                    err(f"{opath}.key", f"key {key!r} is already used by options[{keys[key]}] of this menu")
                else:
                    keys[key] = i
            intent = _text(option.get("intent"))
            if intent and intent not in skills:
                err(f"{opath}.intent", f"{intent!r} is not a skill of this hotline ({', '.join(sorted(skills))})")
            lang = _text(option.get("set_language"))
            if lang and lang not in languages:
                err(f"{opath}.set_language", f"{lang!r} is not a language of this hotline ({', '.join(sorted(languages))})")
            speech = option.get("speech")
            if isinstance(speech, dict):
                for language, keywords in speech.items():
                    if language not in languages:
                        err(f"{opath}.speech.{language}", f"{language!r} is not a language of this hotline ({', '.join(sorted(languages))})")
                    if isinstance(keywords, str):
                        keywords = [keywords]
                    if not isinstance(keywords, list):
                        continue
                    for j, word in enumerate(keywords):
                        if not _text(word):
                            continue
                        folded = (language, word.strip().casefold())
                        if folded in words and words[folded] != i:
                            err(f"{opath}.speech.{language}[{j}]",
                                f"keyword {word.strip()!r} is also a keyword of options[{words[folded]}] of this menu")
                        else:
                            words.setdefault(folded, i)
        kind = raw.get("type")
        if kind == "set":
            intent = _text(raw.get("intent"))
            if intent and intent not in skills:
                err(f"{base}.intent", f"{intent!r} is not a skill of this hotline ({', '.join(sorted(skills))})")
            lang = _text(raw.get("language"))
            if lang and lang not in languages:
                err(f"{base}.language", f"{lang!r} is not a language of this hotline ({', '.join(sorted(languages))})")
        if kind == "route":
            skill = _text(raw.get("skill"))
            if skill and skill not in skills:
                err(f"{base}.skill", f"{skill!r} is not a skill of this hotline ({', '.join(sorted(skills))})")

    # prompts: present in every language, and with no placeholders a flow cannot fill
    for node_id, raw in raws.items():
        if not isinstance(raw, dict) or raw.get("type") not in NODE_TYPES:
            continue
        for name in ("prompt", "invalid_prompt"):
            pid = _text(raw.get(name))
            if not pid:
                continue
            ppath = f"nodes.{node_id}.{name}"
            if pid not in catalog:
                err(ppath, f"prompt {pid!r} is not in the prompt catalog")
                continue
            for _pid, language in catalog.missing([pid], languages):
                err(ppath, f"prompt {pid!r} has no {language!r} text in the prompt catalog")
            needs = catalog.placeholders(pid)
            if needs:
                err(ppath, f"prompt {pid!r} needs {', '.join('{' + n + '}' for n in sorted(needs))}, which a flow cannot fill")

    return (flow if not errors else None), errors


def load_flow(
    data: Any,
    *,
    catalog: PromptCatalog,
    skills: Iterable[str],
    languages: Iterable[str],
    fallback_skill: str,
) -> Flow:
    """Validate a parsed flow document; raises FlowInvalid listing every problem."""
    flow, errors = check_flow(data, catalog=catalog, skills=skills, languages=languages, fallback_skill=fallback_skill)
    if errors or flow is None:
        raise FlowInvalid(errors or [FlowError("(top level)", "the flow could not be read")])
    return flow


def load_flow_file(
    path: str | Path,
    *,
    catalog: PromptCatalog,
    skills: Iterable[str],
    languages: Iterable[str],
    fallback_skill: str,
) -> Flow:
    """Read a YAML flow (duplicate keys refused, with their lines) and validate it.

    Raises FlowInvalid, or OSError when the file cannot be read.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise FlowInvalid(yaml_error(exc), source=str(path)) from None
    try:
        return load_flow(data, catalog=catalog, skills=skills, languages=languages, fallback_skill=fallback_skill)
    except FlowInvalid as exc:
        exc.source = str(path)
        raise
