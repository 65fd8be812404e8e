"""YAML loading that refuses duplicate mapping keys.

PyYAML silently keeps the last of two equal keys in a mapping, so a flow with two nodes
called `welcome` would lose one without a word. `UniqueKeyLoader` composes the document,
walks it for duplicates (all of them, each with its path and line), and only then builds it.
"""
from __future__ import annotations

from typing import Any

import yaml

from ivr.errors import FlowError


class DuplicateKeyError(yaml.MarkedYAMLError):
    """Raised by `UniqueKeyLoader`; `.duplicates` lists every duplicate as a FlowError."""

    def __init__(self, duplicates: list[FlowError], mark=None) -> None:
        self.duplicates = duplicates
        super().__init__(problem="; ".join(str(d) for d in duplicates), problem_mark=mark)

    def __str__(self) -> str:
        return "; ".join(str(d) for d in self.duplicates)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def find_duplicate_keys(node: yaml.Node | None, path: str = "") -> list[tuple[FlowError, Any]]:
    found: list[tuple[FlowError, Any]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                ident = (key_node.tag, key_node.value)
                key_path = _join(path, key_node.value)
                line = key_node.start_mark.line + 1
                if ident in seen:
                    found.append((FlowError(
                        key_path,
                        f"duplicate key {key_node.value!r} at line {line} (first at line {seen[ident]}); "
                        "YAML would silently keep only the last one",
                    ), key_node.start_mark))
                else:
                    seen[ident] = line
                found.extend(find_duplicate_keys(value_node, key_path))
            else:
                found.extend(find_duplicate_keys(value_node, path))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(find_duplicate_keys(item, f"{path}[{index}]"))
    return found


class UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that raises `DuplicateKeyError` instead of merging duplicate keys."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        duplicates = find_duplicate_keys(node)
        if duplicates:
            raise DuplicateKeyError([d for d, _ in duplicates], duplicates[0][1])
        return self.construct_document(node)


def load_yaml(text: str) -> Any:
    """Parse one YAML document safely, refusing duplicate keys."""
    return yaml.load(text, Loader=UniqueKeyLoader)


def yaml_error(exc: yaml.YAMLError) -> list[FlowError]:
    """Turn a YAML error into FlowErrors with a line number where PyYAML knows it."""
    if isinstance(exc, DuplicateKeyError):
        return list(exc.duplicates)
    mark = getattr(exc, "problem_mark", None)
    where = f"(line {mark.line + 1})" if mark is not None else "(file)"
    problem = getattr(exc, "problem", None) or str(exc)
    return [FlowError(where, f"is not valid YAML: {problem}")]
