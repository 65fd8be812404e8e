"""Prompt audio: the prompt catalog rendered ahead of calls to telephony WAV files.

Asterisk cannot synthesise speech while a call runs, and Twilio can `<Play>` a file
instead of `<Say>`. So `onecall prompts build` speaks every prompt of every configured
language once, with espeak-ng, into

    <audio dir>/<language>/<prompt id>.wav
    <audio dir>/<language>/<prompt id>-<value>.wav    one per value 1..PLACEHOLDER_MAX

the second form for prompts with one `{placeholder}` ("You are number {position} in
line."): a caller hears the file of their value, and a value outside the range has no file.
A prompt with two or more placeholders has too many combinations and gets no audio.

Files are 8 kHz mono 16-bit PCM, what Asterisk plays natively (slin) and Twilio accepts.
`manifest.json` keeps, for each file, a hash of everything that shapes its sound (text,
voice, espeak-ng version, sample rate, FORMAT_VERSION), so a rebuild renders only what
changed and deletes the files of prompts that left the catalog.

Drivers find files with `PromptAudio`, which lists the directory once when built: a
lookup during a call touches no disk. A running server sees a rebuild after a restart.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import sys
import wave
from array import array
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from ivr.prompts import PromptCatalog
from hotline.audio.espeak import Espeak
from hotline.audio.resample import resample

SAMPLE_RATE = 8000
PLACEHOLDER_MAX = 30  # queue positions and minutes of waiting beyond this are spoken by no file
PLACEHOLDER_VALUES = range(1, PLACEHOLDER_MAX + 1)
FORMAT_VERSION = 1  # raise when rendering changes (resampler, WAV layout): every file is rendered again
MANIFEST_NAME = "manifest.json"
URL_PATH = "/prompts/audio"  # where the web tier serves the files (Twilio <Play>)

_LANGUAGE_DIR = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_AUDIO_PATH = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*/[A-Za-z0-9_\-]{1,80}\.wav$")
_DECIMAL = re.compile(r"^[0-9]{1,6}$")

Params = Mapping[str, object] | Iterable[tuple[str, object]]
Progress = Callable[[int, int, str], None]  # (files done, files in all, "rendered ko/welcome.wav")


def _file_stem(prompt_id: str, value: int | None) -> str:
    return prompt_id if value is None else f"{prompt_id}-{value}"


def placeholder_value(value: object) -> int | None:
    """The file number for a placeholder value (3 or "3"), or None when no file can exist for it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _DECIMAL.match(value):
        value = int(value)
    if isinstance(value, int) and value in PLACEHOLDER_VALUES:
        return value
    return None


@dataclass(frozen=True)
class PromptFile:
    """One file to render: a prompt in one language, with its placeholder value if it has one."""

    prompt_id: str
    language: str
    value: int | None
    text: str
    voice: str
    parts: tuple[tuple[str, str], ...] = ()  # (voice, text) per passage, spoken one after the other

    @property
    def relative_path(self) -> str:
        return f"{self.language}/{_file_stem(self.prompt_id, self.value)}.wav"

    def fingerprint(self, engine_version: str) -> str:
        """Changes exactly when the file would sound different."""
        facts = {"text": self.text, "voice": self.voice, "parts": self.parts, "espeak-ng": engine_version,
                 "sample_rate": SAMPLE_RATE, "format": FORMAT_VERSION}
        return hashlib.sha256(json.dumps(facts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def tts_voices(config) -> dict[str, str]:
    """language code -> espeak-ng voice: `languages.<code>.tts_voice`, else the code itself."""
    return {code: language.tts_voice or code for code, language in config.languages.items()}


def _prompt_file(catalog: PromptCatalog, voices: Mapping[str, str], prompt_id: str, language: str,
                 value: int | None, params: Mapping[str, object]) -> PromptFile:
    """One file to render, each passage with its language's voice (the prompt's own when none)."""
    own = voices[language]
    parts = tuple((voices.get(p.language, own), p.text) for p in catalog.spoken(prompt_id, language, **params))
    return PromptFile(prompt_id, language, value, catalog.text(prompt_id, language, **params), own, parts)


def plan_files(catalog: PromptCatalog, voices: Mapping[str, str],
               values: range = PLACEHOLDER_VALUES) -> tuple[list[PromptFile], list[str]]:
    """Every file the catalog needs in the languages of `voices`, and warnings for prompts left out."""
    files: dict[str, PromptFile] = {}
    variants: list[PromptFile] = []
    warnings: list[str] = []
    for prompt_id in sorted(catalog.prompt_ids()):
        names = sorted(catalog.placeholders(prompt_id))
        if len(names) > 1:
            warnings.append(f"prompt {prompt_id!r} has {len(names)} placeholders ({', '.join(names)}); "
                            f"only prompts with at most one are rendered, so it has no audio")
            continue
        for language in sorted(catalog.languages(prompt_id) & voices.keys()):
            if not names:
                plain = _prompt_file(catalog, voices, prompt_id, language, None, {})
                files[plain.relative_path] = plain
                continue
            variants.extend(_prompt_file(catalog, voices, prompt_id, language, value, {names[0]: value})
                            for value in values)
    for variant in variants:  # a prompt called 'x-3' and value 3 of prompt 'x' would share a file
        if variant.relative_path in files:
            warnings.append(f"prompt {variant.prompt_id!r} has no audio for value {variant.value}: "
                            f"{variant.relative_path} is the file of another prompt")
            continue
        files[variant.relative_path] = variant
    return list(files.values()), warnings


# -- files on disk -------------------------------------------------------------------------
def write_wav(path: Path, samples: array, sample_rate: int) -> None:
    """Write 16-bit mono PCM, replacing `path` in one step so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()  # WAV data is little-endian
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with wave.open(str(temporary), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(data.tobytes())
    os.replace(temporary, path)


def read_manifest(audio_dir: Path) -> dict[str, dict]:
    """relative path -> entry of the last build; empty when there is none or it cannot be read
    (every file is then rendered again, which is always safe)."""
    try:
        data = json.loads((audio_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {path: entry for path, entry in files.items() if _AUDIO_PATH.match(path) and isinstance(entry, dict)}


def write_manifest(audio_dir: Path, entries: Mapping[str, dict]) -> None:
    document = {"format": FORMAT_VERSION, "sample_rate": SAMPLE_RATE, "placeholder_max": PLACEHOLDER_MAX,
                "files": dict(sorted(entries.items()))}
    temporary = audio_dir / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, audio_dir / MANIFEST_NAME)


def _manifest_entry(prompt_file: PromptFile, digest: str) -> dict:
    return {"prompt": prompt_file.prompt_id, "language": prompt_file.language, "value": prompt_file.value,
            "voice": prompt_file.voice, "hash": digest}


# -- rendering -----------------------------------------------------------------------------
def render_file(prompt_file: PromptFile, engine: Espeak, audio_dir: Path) -> PromptFile:
    """Speak one prompt, bring it to SAMPLE_RATE and write it. Runs in a worker process."""
    samples = array("h")
    for voice, text in prompt_file.parts:
        speech = engine.synthesize(text, voice, prompt_file.relative_path)
        samples.extend(resample(speech.samples, speech.sample_rate, SAMPLE_RATE))
    write_wav(audio_dir / prompt_file.relative_path, samples, SAMPLE_RATE)
    return prompt_file


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _render_all(prompt_files: list[PromptFile], engine: Espeak, audio_dir: Path) -> Iterator[PromptFile]:
    """Render files, one worker process per CPU (resampling is pure Python); yields each when written."""
    workers = min(len(prompt_files), _usable_cpus())
    if workers <= 1:
        for prompt_file in prompt_files:
            yield render_file(prompt_file, engine, audio_dir)
        return
    # spawn, not fork: the caller may be a threaded server or test run
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [pool.submit(render_file, prompt_file, engine, audio_dir) for prompt_file in prompt_files]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class BuildReport:
    """What one build did, by relative file path."""

    audio_dir: Path
    rendered: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self, shown_as: str | None = None) -> str:
        return (f"{shown_as or self.audio_dir}: {len(self.rendered)} rendered, {len(self.unchanged)} unchanged, "
                f"{len(self.removed)} removed")


def build_prompt_audio(catalog: PromptCatalog, voices: Mapping[str, str], audio_dir: str | Path, *,
                       force: bool = False, progress: Progress | None = None,
                       values: range = PLACEHOLDER_VALUES, engine: Espeak | None = None) -> BuildReport:
    """Render what changed since the last build (everything with `force`) and delete what left the catalog.

    `voices` maps each language to render to its espeak-ng voice (see `tts_voices`). Raises
    TtsUnavailable, TtsVoiceUnknown or TtsFailed, and OSError when the directory cannot be
    written. Files finished before a failure are kept and recorded in the manifest.
    """
    engine = engine or Espeak.locate()
    audio_dir = Path(audio_dir)
    audio_dir.mkdir(parents=True, exist_ok=True)
    planned, warnings = plan_files(catalog, voices, values)
    report = BuildReport(audio_dir, warnings=warnings)
    previous = read_manifest(audio_dir)
    entries = dict(previous)
    tick = _ticker(progress, len(planned))

    stale: list[PromptFile] = []
    for prompt_file in planned:
        path = prompt_file.relative_path
        digest = prompt_file.fingerprint(engine.version)
        if not force and previous.get(path, {}).get("hash") == digest and (audio_dir / path).is_file():
            report.unchanged.append(path)
            tick(f"unchanged {path}")
        else:
            stale.append(prompt_file)
    for language, voice in _voices_in_use(stale, voices):
        engine.check_voice(voice, f"languages.{language}.tts_voice")
    try:
        for prompt_file in _render_all(stale, engine, audio_dir):
            entries[prompt_file.relative_path] = _manifest_entry(prompt_file, prompt_file.fingerprint(engine.version))
            report.rendered.append(prompt_file.relative_path)
            tick(f"rendered {prompt_file.relative_path}")
    finally:
        write_manifest(audio_dir, entries)

    report.removed = _remove_files(audio_dir, set(entries) - {f.relative_path for f in planned})
    for path in report.removed:
        del entries[path]
    write_manifest(audio_dir, entries)
    return report


def _voices_in_use(stale: list[PromptFile], voices: Mapping[str, str]) -> list[tuple[str, str]]:
    """(language, voice) of every voice the files to render speak with, passages included."""
    used = {voice for f in stale for voice, _ in f.parts} | {f.voice for f in stale}
    return sorted((language, voice) for language, voice in voices.items() if voice in used)


def _ticker(progress: Progress | None, total: int) -> Callable[[str], None]:
    done = 0

    def tick(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, what)

    return tick


def _remove_files(audio_dir: Path, relative_paths: set[str]) -> list[str]:
    """Delete files of an earlier build, then language folders left empty; returns the paths."""
    for path in relative_paths:
        (audio_dir / path).unlink(missing_ok=True)
    for language in {path.split("/", 1)[0] for path in relative_paths}:
        folder = audio_dir / language
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return sorted(relative_paths)


# -- lookup for the drivers ----------------------------------------------------------------
def _listed_files(audio_dir: Path) -> frozenset[str]:
    """'<language>/<name>.wav' of every audio file under audio_dir."""
    found = set()
    try:
        languages = [entry for entry in os.scandir(audio_dir) if entry.is_dir() and _LANGUAGE_DIR.match(entry.name)]
    except OSError:
        return frozenset()
    for language in languages:
        with os.scandir(language.path) as entries:
            found.update(f"{language.name}/{entry.name}" for entry in entries
                         if entry.is_file() and _AUDIO_PATH.match(f"{language.name}/{entry.name}"))
    return frozenset(found)


class PromptAudio:
    """The rendered prompt files of one audio directory, listed once at construction.

    `path_for(prompt, language, params)` is the file to play, or None (not rendered, value
    out of range, more than one placeholder): the driver then speaks the text instead.
    """

    def __init__(self, audio_dir: str | Path) -> None:
        self.directory = Path(audio_dir).resolve()
        self._files = _listed_files(self.directory)

    def relative_path(self, prompt_id: str, language: str, params: Params = ()) -> str | None:
        """'<language>/<file>.wav' of the prompt with these placeholder values, if that file exists."""
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
        if len(pairs) > 1:
            return None
        value = None
        if pairs:
            value = placeholder_value(pairs[0][1])
            if value is None:
                return None
        path = f"{language}/{_file_stem(prompt_id, value)}.wav"
        return path if path in self._files else None

    def path_for(self, prompt_id: str, language: str, params: Params = ()) -> Path | None:
        """Absolute path of the prompt's WAV file, or None."""
        relative = self.relative_path(prompt_id, language, params)
        return None if relative is None else self.directory / relative

    def stem_for(self, prompt_id: str, language: str, params: Params = ()) -> Path | None:
        """`path_for` without the `.wav` extension, as Asterisk's STREAM FILE and Playback want it."""
        path = self.path_for(prompt_id, language, params)
        return None if path is None else path.with_suffix("")

    def served_file(self, language: str, filename: str) -> str | None:
        """'<language>/<filename>' when it is a rendered file, else None (nothing else may be served)."""
        path = f"{language}/{filename}"
        return path if path in self._files else None

    def __len__(self) -> int:
        return len(self._files)

