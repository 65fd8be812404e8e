"""Errors of the IVR core: flow and catalog problems, each named by a path and a sentence."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowError:
    """One problem in a document: where (`nodes.departments.options[2].key`) and what, in words."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DocumentInvalid(Exception):
    """A YAML document (flow or prompt catalog) was refused; `.errors` lists every problem found."""

    def __init__(self, errors: list[FlowError], source: str | None = None) -> None:
        self.errors: list[FlowError] = list(errors)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class FlowInvalid(DocumentInvalid):
    """A call flow was refused."""


class CatalogInvalid(DocumentInvalid):
    """A prompt catalog was refused."""


class UnknownPrompt(LookupError):
    """A prompt id (or one of its languages) is not in the catalog."""

    def __init__(self, prompt_id: str, language: str | None = None) -> None:
        self.prompt_id = prompt_id
        self.language = language
        super().__init__(prompt_id, language)

    def __str__(self) -> str:
        if self.language is None:
            return f"prompt {self.prompt_id!r} is not in the catalog"
        return f"prompt {self.prompt_id!r} has no {self.language!r} text in the catalog"

