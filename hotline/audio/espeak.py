"""espeak-ng, the speech synthesiser that renders prompt audio ahead of calls.

It runs as a program (Debian package `espeak-ng`), found on PATH. Only its command-line
interface is used: `-v VOICE -b 1 -w FILE TEXT` writes a 16-bit mono WAV at its own rate
(22,050 Hz). The text goes after `--` so a prompt starting with '-' is not read as an option.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

from hotline.errors import TtsFailed, TtsUnavailable, TtsVoiceUnknown

PROGRAM = "espeak-ng"
TIMEOUT_SECONDS = 60
INSTALL_HINT = "install it with `apt-get install espeak-ng`"


@dataclass(frozen=True)
class Speech:
    """Synthesised audio: 16-bit mono samples at `sample_rate`."""

    samples: array
    sample_rate: int


class Espeak:
    """One espeak-ng installation. `Espeak.locate()` finds it or raises TtsUnavailable.

    Holds only the program's path and version, so it can be handed to worker processes.
    """

    def __init__(self, executable: str, version: str) -> None:
        self.executable = executable
        self.version = version

    @classmethod
    def locate(cls) -> "Espeak":
        executable = shutil.which(PROGRAM)
        if executable is None:
            raise TtsUnavailable(f"{PROGRAM} is not installed (not found on PATH); {INSTALL_HINT}")
        return cls(executable, _read_version(executable))

    def check_voice(self, voice: str, setting: str) -> None:
        """Raise TtsVoiceUnknown unless espeak-ng can speak with `voice` (named by config `setting`)."""
        result = _run(self.executable, "-q", "-v", voice, "--", "a")
        if result.returncode != 0:
            raise TtsVoiceUnknown(
                f"{setting}: espeak-ng has no voice {voice!r} (`espeak-ng --voices` lists them): "
                f"{result.stderr.decode('utf-8', 'replace').strip()}"
            )

    def synthesize(self, text: str, voice: str, label: str) -> Speech:
        """Speak `text` with `voice`; `label` names the prompt in errors. Raises TtsFailed."""
        with tempfile.TemporaryDirectory(prefix="onecall-tts-") as scratch:
            output = Path(scratch) / "speech.wav"
            result = _run(self.executable, "-v", voice, "-b", "1", "-w", str(output), "--", text)
            if result.returncode != 0 or not output.is_file():
                reason = result.stderr.decode("utf-8", "replace").strip() or f"exit status {result.returncode}"
                raise TtsFailed(f"{label}: espeak-ng (voice {voice!r}) failed: {reason}")
            return _read_speech(output, label)


def _run(executable: str, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([executable, *args], capture_output=True, timeout=TIMEOUT_SECONDS)
    except OSError as exc:
        raise TtsUnavailable(f"{executable} cannot be run ({exc.strerror}); {INSTALL_HINT}") from None
    except subprocess.TimeoutExpired:
        raise TtsFailed(f"{executable} did not finish within {TIMEOUT_SECONDS} s") from None


def _read_version(executable: str) -> str:
    """The version word of `espeak-ng --version` ("eSpeak NG text-to-speech: 1.51  Data at: ...")."""
    output = _run(executable, "--version").stdout.decode("utf-8", "replace")
    version = output.split("Data at:")[0].rsplit(":", 1)[-1].strip()
    if not version:
        raise TtsUnavailable(f"{executable} --version gave no version ({output.strip()!r}); {INSTALL_HINT}")
    return version


def _read_speech(path: Path, label: str) -> Speech:
    try:
        with wave.open(str(path), "rb") as reader:
            if reader.getnchannels() != 1 or reader.getsampwidth() != 2:
                raise TtsFailed(f"{label}: espeak-ng wrote {reader.getnchannels()} channel(s) of "
                                f"{8 * reader.getsampwidth()}-bit audio, expected 16-bit mono")
            samples = array("h", reader.readframes(reader.getnframes()))
            rate = reader.getframerate()
    except (wave.Error, EOFError) as exc:
        raise TtsFailed(f"{label}: espeak-ng wrote an unreadable WAV file ({exc})") from None
    if sys.byteorder == "big":
        samples.byteswap()  # WAV data is little-endian
    if not samples:
        raise TtsFailed(f"{label}: espeak-ng produced no audio")
    return Speech(samples, rate)
