"""Small helpers for prompt-audio tests: a two-prompt catalog and WAV inspection."""
from __future__ import annotations

import math
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

from ivr.prompts import PromptCatalog

VOICES = {"en": "en-us", "ko": "ko"}
FEW_VALUES = range(1, 4)  # placeholder values rendered by most tests, to keep them quick


def small_catalog(**changes: dict[str, str]) -> PromptCatalog:
    """`hello` (no placeholder) and `position` ({position}), in English and Korean.

    Keyword arguments replace a prompt's texts, or add a prompt; `{}` leaves the prompt out."""
    prompts = {
        "hello": {"en": "Hello.", "ko": "안녕하십니까."},
        "position": {"en": "You are number {position} in line.", "ko": "현재 대기 순서는 {position}번째입니다."},
    }
    prompts.update(changes)
    return PromptCatalog.from_dict({"prompts": {pid: texts for pid, texts in prompts.items() if texts}})


@dataclass(frozen=True)
class Wav:
    sample_rate: int
    channels: int
    sample_width: int
    samples: array

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def rms(self) -> float:
        return math.sqrt(sum(s * s for s in self.samples) / len(self.samples)) if self.samples else 0.0


def read_wav(path: Path) -> Wav:
    with wave.open(str(path), "rb") as reader:
        frames = reader.readframes(reader.getnframes())
        return Wav(reader.getframerate(), reader.getnchannels(), reader.getsampwidth(), array("h", frames))
