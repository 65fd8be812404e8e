"""The prompt catalog: prompt id -> {language code -> text}.

File shape (`prompts/catalog.yaml`):

    prompts:
      queue_position:
        ko: "현재 대기 순서는 {position}번째입니다."
        en: "You are number {position} in line."

Texts may hold `{placeholders}`; every language of one prompt must use the same ones.

A text says what the caller hears, so two pieces of markup tell the voices how to read it:

- `[en: For English, press 2.]` is a passage in another language, spoken by that
  language's voice (a Korean voice reads "press 2" as "press 이");
- `[digits: 120]` is read digit by digit, as the caller dials or presses them, in the
  language around it: 일이공 in Korean (not 백이십), "one two zero" in English.

`spoken()` gives a text as those passages; `text()` gives it as written.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from ivr.errors import CatalogInvalid, FlowError, UnknownPrompt
from ivr.yamlstrict import DuplicateKeyError, UniqueKeyLoader, load_yaml, yaml_error

__all__ = ["PromptCatalog", "Passage", "load_catalog", "passages", "spell_digits", "UniqueKeyLoader",
           "DuplicateKeyError"]

_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_FORMATTER = string.Formatter()
_MARKUP = re.compile(r"\[([^\[\]:]*):([^\[\]]*)\]")
DIGITS_TAG = "digits"
# how a language reads the digits of a key or a phone number (Korean says 공 for 0)
DIGIT_NAMES = {
    "ko": ("공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}
_DIGIT_SEPARATOR = {"ko": ""}  # 일이공 is one word; English names stand apart


@dataclass(frozen=True)
class Passage:
    """A run of a prompt spoken in one language."""

    language: str
    text: str


def spell_digits(digits: str, language: str) -> str:
    """Digits as the words a caller hears for them one by one in `language`."""
    base = language.split("-")[0]
    names = DIGIT_NAMES.get(base)
    if names is None:
        return " ".join(digits)  # lone digits apart: voices read them one by one
    return _DIGIT_SEPARATOR.get(base, " ").join(names[int(d)] for d in digits)


def passages(text: str, language: str) -> tuple[Passage, ...]:
    """A text of `language` as the runs each voice speaks: markup passages in their own
    language, `[digits: …]` spelled out in the language around it."""
    runs: list[list[str]] = []
    position = 0
    for match in _MARKUP.finditer(text):
        _extend(runs, language, text[position:match.start()])
        tag, body = match.group(1).strip(), match.group(2).strip()
        if tag == DIGITS_TAG:
            _extend(runs, language, spell_digits(body, language))
        else:
            _extend(runs, tag, body)
        position = match.end()
    _extend(runs, language, text[position:])
    spoken = (Passage(lang, " ".join("".join(pieces).split())) for lang, *pieces in runs)
    return tuple(p for p in spoken if p.text)


def _extend(runs: list[list[str]], language: str, piece: str) -> None:
    """Add a piece to the last run when it is in the same language, else start a run."""
    if runs and runs[-1][0] == language:
        runs[-1].append(piece)
    else:
        runs.append([language, piece])


def markup_problems(text: str) -> list[str]:
    """What is wrong with a text's `[language: …]` and `[digits: …]` markup."""
    problem = _bracket_problem(text)
    if problem:
        return [problem]
    unmatched = _MARKUP.sub("", text)
    if "[" in unmatched:
        return ["a '[…]' must be '[<language>: text]' or '[digits: 0-9]'"]
    return [p for m in _MARKUP.finditer(text) if (p := _tag_problem(m.group(1).strip(), m.group(2).strip()))]


def _bracket_problem(text: str) -> str | None:
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
            if depth > 1:
                return "'[…]' passages cannot be nested"
        elif char == "]":
            if depth == 0:
                return "a ']' without its '['"
            depth -= 1
    return "a '[' without its ']'" if depth else None


def _tag_problem(tag: str, body: str) -> str | None:
    if tag != DIGITS_TAG and not _LANGUAGE.match(tag):
        return f"{tag!r} in '[{tag}: …]' is not a language code (ko, en, …) or 'digits'"
    if not body:
        return f"'[{tag}: …]' is empty"
    if tag == DIGITS_TAG and not (body.isascii() and body.isdigit()):
        return f"'[digits: …]' takes only the digits 0-9, not {body!r}"
    return None


def markup_languages(text: str) -> frozenset[str]:
    """The languages of a text's `[language: …]` passages."""
    tags = (match.group(1).strip() for match in _MARKUP.finditer(text))
    return frozenset(tag for tag in tags if tag != DIGITS_TAG)


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
                markup = markup_problems(text)
                if markup:
                    errors.extend(FlowError(tpath, problem) for problem in markup)
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

    def spoken(self, prompt_id: str, language: str, **params: object) -> tuple[Passage, ...]:
        """The text filled as `text` does, as the passages each language's voice speaks."""
        return passages(self.text(prompt_id, language, **params), language)

    def passage_languages(self) -> list[tuple[str, str, str]]:
        """(prompt id, language, passage language) for every `[language: …]` passage."""
        return [(pid, language, other) for pid, texts in sorted(self._prompts.items())
                for language, text in sorted(texts.items()) for other in sorted(markup_languages(text))]

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
