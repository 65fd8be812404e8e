"""What a telephony driver tells the interpreter happened on a call."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class CallStarted:
    caller: str
    called: str = ""


@dataclass(frozen=True)
class DigitsEntered:
    digits: str


@dataclass(frozen=True)
class SpeechHeard:
    text: str
    confidence: float = 0.0


@dataclass(frozen=True)
class NoInput:
    pass


@dataclass(frozen=True)
class CallerHungUp:
    pass


Event = Union[CallStarted, DigitsEntered, SpeechHeard, NoInput, CallerHungUp]
