"""What the interpreter asks a telephony driver to do. Every step's actions end with exactly
one of Gather (wait for input), Route (leave the flow for an agent queue) or Hangup."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

VERIFICATIONS = ("none", "caller_id", "registry_number")


@dataclass(frozen=True)
class Say:
    prompt: str
    language: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Gather:
    prompts: tuple[Say, ...]
    language: str
    input: tuple[str, ...]  # ("dtmf",) or ("dtmf", "speech")
    num_digits: int | None
    finish_on_key: str  # "" = none (a menu that uses '#' as an option key)
    timeout_seconds: int
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    skill: str
    language: str
    priority: int
    citizen_id: str | None
    verification: str  # one of VERIFICATIONS


@dataclass(frozen=True)
class Hangup:
    pass


Action = Union[Say, Gather, Route, Hangup]
FINAL_ACTIONS = (Gather, Route, Hangup)
