"""The prompt catalog: prompt id -> {language code -> text}.

File shape (`prompts/catalog.yaml`):

    prompts:
      queue_position:
        ko: "현재 대기 순서는 {position}번째입니다."
        en: "You are number {position} in line."

Texts may hold `{placeholders}`; every language of one prompt must use the same ones.
"""
from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from ivr.errors import CatalogInvalid, FlowError, UnknownPrompt
from ivr.yamlstrict import DuplicateKeyError, UniqueKeyLoader, load_yaml, yaml_error

__all__ = ["PromptCatalog", "load_catalog", "UniqueKeyLoader", "DuplicateKeyError"]

_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_FORMATTER = string.Formatter()


def placeholders_of(text: str) -> frozenset[str]:
    """The `{name}` placeholders of a text; raises ValueError for malformed braces."""
    names = set()
    for _literal, field, spec, conversion in _FORMATTER.parse(text):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{field}}} must be a plain {{name}}")
        names.add(field)
    return frozenset(names)


class PromptCatalog:
    """Immutable prompt texts per language. Build with `PromptCatalog.from_dict` or `load_catalog`."""

    def __init__(self, prompts: Mapping[str, Mapping[str, str]]) -> None:
        self._prompts = {pid: dict(texts) for pid, texts in prompts.items()}

    @classmethod
    def from_dict(cls, data: object) -> "PromptCatalog":
        """Check a parsed catalog document (with its `prompts:` key); raises CatalogInvalid."""
        errors: list[FlowError] = []
        if not isinstance(data, dict):
            raise CatalogInvalid([FlowError("(top level)", "must be a mapping with a 'prompts' key")])
        for key in data:
            if key != "prompts":
                errors.append(FlowError(str(key), "is not a known catalog field (expected only 'prompts')"))
        prompts = data.get("prompts")
        if not isinstance(prompts, dict) or not prompts:
            errors.append(FlowError("prompts", "must be a non-empty mapping of prompt id to {language: text}"))
            raise CatalogInvalid(errors)
        good: dict[str, dict[str, str]] = {}
        for pid, texts in prompts.items():
            path = f"prompts.{pid}"
            if not isinstance(pid, str) or not _ID.match(pid):
                errors.append(FlowError(path, "prompt id must be letters, digits, '_' or '-'"))
                continue
            if not isinstance(texts, dict) or not texts:
                errors.append(FlowError(path, "must map language codes (ko, en, ...) to texts"))
                continue
            ok: dict[str, str] = {}
            names_by_language: dict[str, frozenset[str]] = {}
            for language, text in texts.items():
                tpath = f"{path}.{language}"
                if not isinstance(language, str) or not _LANGUAGE.match(language):
                    errors.append(FlowError(tpath, "language must be a code such as 'ko' or 'en'"))
                    continue
                if not isinstance(text, str) or not text.strip():
                    errors.append(FlowError(tpath, "text must be a non-empty string"))
                    continue
                try:
                    names_by_language[language] = placeholders_of(text)
                except ValueError as exc:
                    errors.append(FlowError(tpath, str(exc)))
                    continue
                ok[language] = text
            if len(set(names_by_language.values())) > 1:
                described = ", ".join(
                    f"{lang}: {{{'}, {'.join(sorted(names))}}}" if names else f"{lang}: none"
                    for lang, names in names_by_language.items()
                )
                errors.append(FlowError(path, f"languages use different placeholders ({described})"))
            good[pid] = ok
        if errors:
            raise CatalogInvalid(errors)
        return cls(good)

    def prompt_ids(self) -> frozenset[str]:
        return frozenset(self._prompts)

    def languages(self, prompt_id: str) -> frozenset[str]:
        if prompt_id not in self._prompts:
            raise UnknownPrompt(prompt_id)
        return frozenset(self._prompts[prompt_id])

    def has(self, prompt_id: str, language: str) -> bool:
        return language in self._prompts.get(prompt_id, {})

    def placeholders(self, prompt_id: str) -> frozenset[str]:
        """Names the prompt's text needs (the same in every language)."""
        if prompt_id not in self._prompts:
            raise UnknownPrompt(prompt_id)
        names: set[str] = set()
        for text in self._prompts[prompt_id].values():
            names |= placeholders_of(text)
        return frozenset(names)

    def text(self, prompt_id: str, language: str, **params: object) -> str:
        """The text of a prompt in a language with its placeholders filled.

        Raises UnknownPrompt when the prompt or its language is missing, ValueError when
        a placeholder has no value. Extra params are ignored.
        """
        texts = self._prompts.get(prompt_id)
        if texts is None:
            raise UnknownPrompt(prompt_id)
        if language not in texts:
            raise UnknownPrompt(prompt_id, language)
        text = texts[language]
        missing = placeholders_of(text) - params.keys()
        if missing:
            raise ValueError(f"prompt {prompt_id!r} needs {', '.join(sorted(missing))}")
        return text.format_map(params)

    def missing(self, prompt_ids: Iterable[str], languages: Iterable[str]) -> list[tuple[str, str]]:
        """Every (prompt id, language) pair without a text, in a stable order."""
        languages = sorted(set(languages))
        result = []
        for pid in sorted(set(prompt_ids)):
            for language in languages:
                if not self.has(pid, language):
                    result.append((pid, language))
        return result

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self._prompts

    def __len__(self) -> int:
        return len(self._prompts)

    def __repr__(self) -> str:
        return f"PromptCatalog({len(self._prompts)} prompts)"


def load_catalog(path: str | Path) -> PromptCatalog:
    """Read and check a catalog file; raises CatalogInvalid (duplicate keys included) or OSError."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise CatalogInvalid(yaml_error(exc), source=str(path)) from None
    try:
        return PromptCatalog.from_dict(data)
    except CatalogInvalid as exc:
        exc.source = str(path)
        raise
