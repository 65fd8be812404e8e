"""Whole-flow validation: `load_flow(data, ...)` returns a `Flow` or raises `FlowInvalid` with ALL problems.

Shape problems come from `ivr.flow.parse_flow`. The checks here read the raw node mappings
(so one malformed field does not hide the other problems) and cover: references to unknown
nodes, unreachable nodes, menu key and speech keyword collisions, intents/skills and
languages the deployment does not have, nodes from which no route or hangup can be reached,
menus whose no-answer path loops forever, and prompts missing a translation.

Each rule is a `_check_*` generator of FlowErrors; `check_flow` runs them in a fixed order,
so the same document always lists its problems in the same order.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from ivr.errors import FlowError, FlowInvalid
from ivr.flow import DTMF_KEYS, NODE_TYPES, TERMINAL_TYPES, Flow, parse_flow
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


def _is_menu(raw: Any) -> bool:
    return isinstance(raw, dict) and raw.get("type") == "menu"


def _dtmf_key(option: dict) -> str | None:
    """An option's key as a phone key ("1", "#"), or None when it is not one (the shape check reports it)."""
    key = option.get("key")
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)  # `key: 1` written without quotes
    return key if isinstance(key, str) and key in DTMF_KEYS else None


def _keyword_list(keywords: Any) -> list:
    """A speech entry as a list: a single keyword may be written without brackets."""
    if isinstance(keywords, str):
        return [keywords]
    return keywords if isinstance(keywords, list) else []


def _folded_keywords(option: dict, language: Any) -> set[str]:
    """An option's keywords in one language, as compared: without case or surrounding spaces."""
    speech = option.get("speech")
    if not isinstance(speech, dict) or language not in speech:
        return set()
    return {word.strip().casefold() for word in _keyword_list(speech[language]) if _text(word)}


def _prompt_uses(raws: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, prompt id) for every prompt a node of a known type names."""
    for node_id, raw in raws.items():
        if not isinstance(raw, dict) or raw.get("type") not in NODE_TYPES:
            continue  # the shape check reports unknown types
        for name in ("prompt", "invalid_prompt"):
            prompt_id = _text(raw.get(name))
            if prompt_id:
                yield f"nodes.{node_id}.{name}", prompt_id


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
    errors.extend(_check_fallback_skill(fallback_skill, skills))
    if not raws:
        return None, errors
    start = _text(data.get("start"))
    can_finish = _nodes_that_can_finish(raws)  # two rules need it
    errors.extend(_check_start_exists(start, raws))
    errors.extend(_check_targets_exist(raws))
    errors.extend(_check_reachable(start, raws))
    errors.extend(_check_every_node_can_finish(raws, can_finish))
    errors.extend(_check_no_silent_loops(raws, can_finish))
    errors.extend(_check_node_fields(raws, skills, languages))
    errors.extend(_check_prompts(raws, catalog, languages))
    return (flow if not errors else None), errors


# --- the graph: start, references, reachability, ways out ---------------------------------


def _check_fallback_skill(fallback_skill: str, skills: set[str]) -> Iterator[FlowError]:
    """The deployment's fallback skill is one of its skills."""
    if fallback_skill not in skills:
        yield FlowError(
            "(deployment)", f"the fallback skill {fallback_skill!r} is not one of the skills ({', '.join(sorted(skills))})"
        )


def _check_start_exists(start: str | None, raws: dict[str, Any]) -> Iterator[FlowError]:
    """The start node is a node of the flow."""
    if start and start not in raws:
        yield FlowError("start", f"names node {start!r}, which does not exist")


def _check_targets_exist(raws: dict[str, Any]) -> Iterator[FlowError]:
    """Every next, on_fail and option next names a node of the flow."""
    for node_id, raw in raws.items():
        for rel, target in _edges(raw):
            if target not in raws:
                yield FlowError(f"nodes.{node_id}.{rel}", f"names node {target!r}, which does not exist")


def _check_reachable(start: str | None, raws: dict[str, Any]) -> Iterator[FlowError]:
    """Every node can be reached from the start node."""
    if start not in raws:
        return  # a missing start is reported on its own
    reached = _reachable_from(start, raws)
    for node_id in raws:
        if node_id not in reached:
            yield FlowError(f"nodes.{node_id}", f"is never reached from the start node {start!r}")


def _reachable_from(start: str, raws: dict[str, Any]) -> set[str]:
    """The ids of the nodes a call can reach from `start`, `start` included."""
    seen = {start}
    todo = [start]
    while todo:
        for _rel, target in _edges(raws[todo.pop()]):
            if target in raws and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _check_every_node_can_finish(raws: dict[str, Any], can_finish: set[str]) -> Iterator[FlowError]:
    """From every node, a route or hangup node can be reached."""
    for node_id in raws:
        if node_id not in can_finish:
            yield FlowError(
                f"nodes.{node_id}", "no route or hangup node can be reached from here, so a call would never leave the flow"
            )


def _nodes_that_can_finish(raws: dict[str, Any]) -> set[str]:
    """The ids of the nodes from which a call can leave the flow."""
    can_finish = {node_id for node_id, raw in raws.items() if _counts_as_exit(raw, raws)}
    changed = True
    while changed:  # grow the set until no node gains a way out
        changed = False
        for node_id, raw in raws.items():
            if node_id not in can_finish and any(t in can_finish for _r, t in _edges(raw)):
                can_finish.add(node_id)
                changed = True
    return can_finish


def _counts_as_exit(raw: Any, raws: dict[str, Any]) -> bool:
    """Whether a node lets the call leave the flow by itself.

    Nodes of unknown type or with broken references count as exits, so that one mistake is
    reported once (by its own rule), not again at every node before it.
    """
    if not isinstance(raw, dict) or raw.get("type") not in NODE_TYPES:
        return True
    if raw["type"] in TERMINAL_TYPES:
        return True
    if raw["type"] == "menu" and not _text(raw.get("on_fail")):
        return True  # retries used up -> the fallback route
    return any(target not in raws for _rel, target in _edges(raw))


def _check_no_silent_loops(raws: dict[str, Any], can_finish: set[str]) -> Iterator[FlowError]:
    """A caller who never answers a menu is not sent round in a circle forever."""
    for node_id, raw in raws.items():
        # a menu without on_fail ends at the fallback route; one that cannot finish is reported already
        if _is_menu(raw) and _text(raw.get("on_fail")) and node_id in can_finish:
            loop = _silent_loop(node_id, raws)
            if loop:
                yield FlowError(
                    f"nodes.{node_id}.on_fail",
                    f"a caller who never answers goes round {' -> '.join(loop)} forever; end the loop with a route or hangup",
                )


def _silent_loop(menu_id: str, raws: dict[str, Any]) -> list[str] | None:
    """The nodes a silent caller goes through from a menu back to it (the menu first and last), or None."""
    path, current = [menu_id], _silent_next(raws[menu_id])
    while current in raws and current not in path and isinstance(raws[current], dict):
        path.append(current)
        current = _silent_next(raws[current])
    return path + [menu_id] if current == menu_id else None


# --- node fields: menu keys and keywords, skills, languages ------------------------------


def _check_node_fields(raws: dict[str, Any], skills: set[str], languages: set[str]) -> Iterator[FlowError]:
    """Menu keys and speech keywords are unique in their menu, and every skill and language named exists."""
    # node by node and field by field, so one node's problems are listed together
    for node_id, raw in raws.items():
        if not isinstance(raw, dict):
            continue
        base = f"nodes.{node_id}"
        yield from _check_menu_options(base, raw, skills, languages)
        if raw.get("type") == "set":
            yield from _check_skill_known(f"{base}.intent", raw.get("intent"), skills)
            yield from _check_language_known(f"{base}.language", raw.get("language"), languages)
        if raw.get("type") == "route":
            yield from _check_skill_known(f"{base}.skill", raw.get("skill"), skills)


def _check_menu_options(base: str, raw: dict, skills: set[str], languages: set[str]) -> Iterator[FlowError]:
    """Each option of a menu: its key and keywords are its own, and its intent and language exist."""
    options = _options(raw)
    for position, (i, option) in enumerate(options):
        path = f"{base}.options[{i}]"
        earlier = options[:position]
        yield from _check_key_unique(path, option, earlier)
        yield from _check_skill_known(f"{path}.intent", option.get("intent"), skills)
        yield from _check_language_known(f"{path}.set_language", option.get("set_language"), languages)
        yield from _check_speech(path, option, earlier, languages)


def _check_key_unique(path: str, option: dict, earlier: list[tuple[int, dict]]) -> Iterator[FlowError]:
    """An option's key is not already used by an earlier option of the same menu."""
    key = _dtmf_key(option)
    if key is None:
        return  # not a phone key: the shape check reports it
    taken_by = [k for k, other in earlier if _dtmf_key(other) == key]
    if taken_by:
        yield FlowError(f"{path}.key", f"key {key!r} is already used by options[{taken_by[0]}] of this menu")


def _check_speech(path: str, option: dict, earlier: list[tuple[int, dict]], languages: set[str]) -> Iterator[FlowError]:
    """An option's speech keywords are in the hotline's languages and not taken by an earlier option."""
    speech = option.get("speech")
    if not isinstance(speech, dict):
        return  # the shape check reports it
    for language, keywords in speech.items():
        if language not in languages:
            yield _unknown_language(f"{path}.speech.{language}", language, languages)
        heard_in = _heard_in(option, language, languages)
        yield from _check_keywords_unique(f"{path}.speech.{language}", keywords, heard_in, earlier)


def _heard_in(option: dict, language: Any, languages: set[str]) -> list:
    """The call languages in which an option's keywords of `language` pick it: that language,
    and every language when it is the one the option switches to (as the interpreter hears them)."""
    if language == _text(option.get("set_language")):
        return [language] + sorted(languages - {language})
    return [language]


def _heard_keywords(option: dict, language: Any) -> set[str]:
    """An option's keywords that pick it while the call is in `language`, as compared."""
    heard = _folded_keywords(option, language)
    target = _text(option.get("set_language"))
    return heard | _folded_keywords(option, target) if target else heard


def _check_keywords_unique(path: str, keywords: Any, heard_in: list, earlier: list[tuple[int, dict]]) -> Iterator[FlowError]:
    """A keyword does not also pick an earlier option in a language it is heard in (ignoring case)."""
    for j, word in enumerate(_keyword_list(keywords)):
        if not _text(word):
            continue
        clash = _first_clash(word.strip().casefold(), heard_in, earlier)
        if clash is not None:
            taken_by, language = clash
            where = "" if language == heard_in[0] else f" when the call is in {language!r}"
            yield FlowError(f"{path}[{j}]", f"keyword {word.strip()!r} is also a keyword of options[{taken_by}] of this menu{where}")


def _first_clash(folded: str, heard_in: list, earlier: list[tuple[int, dict]]) -> tuple[int, Any] | None:
    """(index of the earlier option, call language) of the first earlier option the keyword also picks."""
    for language in heard_in:
        for k, other in earlier:
            if folded in _heard_keywords(other, language):
                return k, language
    return None


def _check_skill_known(path: str, value: Any, skills: set[str]) -> Iterator[FlowError]:
    """A skill or intent named in the flow is one of the hotline's skills."""
    skill = _text(value)
    if skill and skill not in skills:
        yield FlowError(path, f"{skill!r} is not a skill of this hotline ({', '.join(sorted(skills))})")


def _check_language_known(path: str, value: Any, languages: set[str]) -> Iterator[FlowError]:
    """A language a node or option switches to is one of the hotline's languages."""
    language = _text(value)
    if language and language not in languages:
        yield _unknown_language(path, language, languages)


def _unknown_language(path: str, language: Any, languages: set[str]) -> FlowError:
    return FlowError(path, f"{language!r} is not a language of this hotline ({', '.join(sorted(languages))})")


# --- prompts --------------------------------------------------------------------------------


def _check_prompts(raws: dict[str, Any], catalog: PromptCatalog, languages: set[str]) -> Iterator[FlowError]:
    """Every prompt a node names is in the catalog, in every language, and needs nothing a flow cannot fill."""
    for path, prompt_id in _prompt_uses(raws):
        if prompt_id not in catalog:
            yield FlowError(path, f"prompt {prompt_id!r} is not in the prompt catalog")
            continue  # nothing more to look up
        yield from _check_prompt_translated(path, prompt_id, catalog, languages)
        yield from _check_prompt_has_no_placeholders(path, prompt_id, catalog)


def _check_prompt_translated(path: str, prompt_id: str, catalog: PromptCatalog, languages: set[str]) -> Iterator[FlowError]:
    """A prompt has a text in every language of the hotline."""
    for _pid, language in catalog.missing([prompt_id], languages):
        yield FlowError(path, f"prompt {prompt_id!r} has no {language!r} text in the prompt catalog")


def _check_prompt_has_no_placeholders(path: str, prompt_id: str, catalog: PromptCatalog) -> Iterator[FlowError]:
    """A prompt used by a flow needs no {placeholder} values, since a flow has none to give."""
    needs = catalog.placeholders(prompt_id)
    if needs:
        wanted = ", ".join("{" + name + "}" for name in sorted(needs))
        yield FlowError(path, f"prompt {prompt_id!r} needs {wanted}, which a flow cannot fill")


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
