"""`build_prompt_audio` with the real espeak-ng: telephony WAV files, rebuilt only when their
sound would change, and `PromptAudio` finding them."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from hotline.errors import TtsFailed, TtsUnavailable, TtsVoiceUnknown
from hotline.audio.render import (
    MANIFEST_NAME, PLACEHOLDER_MAX, PromptAudio, build_prompt_audio, plan_files,
)
from tests.hotline.audio.helpers import FEW_VALUES, VOICES, read_wav, small_catalog

FIRST_BUILD = ["en/hello.wav", "en/position-1.wav", "en/position-2.wav", "en/position-3.wav",
               "ko/hello.wav", "ko/position-1.wav", "ko/position-2.wav", "ko/position-3.wav"]


def build(audio_dir, catalog=None, **options):
    return build_prompt_audio(catalog or small_catalog(), VOICES, audio_dir, values=FEW_VALUES, **options)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    """One build of the small catalog, for tests that only read it."""
    directory = tmp_path_factory.mktemp("prompt-audio") / "audio"
    report = build(directory)
    assert sorted(report.rendered) == FIRST_BUILD
    return directory


@pytest.fixture()
def audio_dir(built_once, tmp_path):
    """A copy of that build (file times included) for a test to rebuild."""
    return Path(shutil.copytree(built_once, tmp_path / "audio"))


def modification_times(directory) -> dict[str, int]:
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in directory.glob("*/*.wav")}


def test_files_are_8khz_mono_16bit_speech(built_once):
    for relative in FIRST_BUILD:
        wav = read_wav(built_once / relative)
        assert (wav.sample_rate, wav.channels, wav.sample_width) == (8000, 1, 2), relative
        assert 0.3 < wav.seconds < 6, relative
        assert wav.rms > 300, f"{relative} is silent"
    manifest = json.loads((built_once / MANIFEST_NAME).read_text())
    assert sorted(manifest["files"]) == FIRST_BUILD
    assert manifest["files"]["ko/position-2.wav"]["value"] == 2
    assert manifest["files"]["en/hello.wav"]["voice"] == "en-us"


def test_a_second_build_renders_nothing(audio_dir):
    before = modification_times(audio_dir)
    report = build(audio_dir)
    assert report.rendered == [] and report.removed == []
    assert sorted(report.unchanged) == FIRST_BUILD
    assert modification_times(audio_dir) == before
    assert report.summary("prompts/audio") == "prompts/audio: 0 rendered, 8 unchanged, 0 removed"


def test_a_changed_text_renders_only_its_file(audio_dir):
    before = modification_times(audio_dir)
    report = build(audio_dir, small_catalog(hello={"en": "Good morning.", "ko": "안녕하십니까."}))
    assert report.rendered == ["en/hello.wav"]
    after = modification_times(audio_dir)
    assert [path for path in after if after[path] != before[path]] == ["en/hello.wav"]


def test_a_changed_voice_renders_that_language_again(audio_dir):
    report = build_prompt_audio(small_catalog(), {**VOICES, "en": "en-gb"}, audio_dir, values=FEW_VALUES)
    assert sorted(report.rendered) == [path for path in FIRST_BUILD if path.startswith("en/")]


def test_force_renders_everything(audio_dir):
    assert sorted(build(audio_dir, force=True).rendered) == FIRST_BUILD


def test_a_deleted_file_or_a_lost_manifest_is_rendered_again(audio_dir):
    (audio_dir / "ko" / "hello.wav").unlink()
    assert build(audio_dir).rendered == ["ko/hello.wav"]
    (audio_dir / MANIFEST_NAME).write_text("{not json")
    assert sorted(build(audio_dir).rendered) == FIRST_BUILD


def test_files_of_prompts_that_left_the_catalog_are_removed(audio_dir):
    report = build(audio_dir, small_catalog(position={}))
    assert report.removed == sorted(path for path in FIRST_BUILD if "position" in path)
    assert not list(audio_dir.glob("*/position-*.wav"))
    assert (audio_dir / "en" / "hello.wav").is_file()
    assert sorted(json.loads((audio_dir / MANIFEST_NAME).read_text())["files"]) == ["en/hello.wav", "ko/hello.wav"]


def test_a_language_no_longer_configured_loses_its_folder(audio_dir):
    report = build_prompt_audio(small_catalog(), {"en": "en-us"}, audio_dir, values=FEW_VALUES)
    assert report.removed == [path for path in FIRST_BUILD if path.startswith("ko/")]
    assert not (audio_dir / "ko").exists()


def test_a_file_of_someone_else_is_left_alone(audio_dir):
    recording = audio_dir / "en" / "studio-greeting.wav"
    recording.write_bytes(b"RIFF")
    build(audio_dir, small_catalog(position={}))
    assert recording.read_bytes() == b"RIFF"


def test_placeholder_prompts_get_one_file_per_value_up_to_the_limit():
    files, warnings = plan_files(small_catalog(), {"en": "en-us"})
    paths = {f.relative_path: f for f in files}
    assert sorted(paths) == sorted(["en/hello.wav"] + [f"en/position-{n}.wav" for n in range(1, PLACEHOLDER_MAX + 1)])
    assert paths[f"en/position-{PLACEHOLDER_MAX}.wav"].text == f"You are number {PLACEHOLDER_MAX} in line."
    assert warnings == []


def test_a_prompt_with_two_placeholders_is_skipped_with_a_warning(tmp_path):
    catalog = small_catalog(wait={"en": "Number {position}, about {minutes} minutes."})
    report = build(tmp_path / "audio", catalog)
    assert not any("wait" in path for path in report.rendered)
    [warning] = report.warnings
    assert "'wait'" in warning and "minutes, position" in warning


def test_a_prompt_whose_name_is_a_value_file_keeps_it(tmp_path):
    files, warnings = plan_files(small_catalog(**{"position-2": {"en": "Two."}}), {"en": "en-us"}, FEW_VALUES)
    texts = {f.relative_path: f.text for f in files}
    assert texts["en/position-2.wav"] == "Two."
    assert "'position'" in warnings[0] and "value 2" in warnings[0]


def test_an_unknown_voice_is_named_with_its_setting(tmp_path):
    with pytest.raises(TtsVoiceUnknown) as caught:
        build_prompt_audio(small_catalog(), {"en": "xx-nonexistent"}, tmp_path / "audio", values=FEW_VALUES)
    assert "languages.en.tts_voice" in caught.value.message and "xx-nonexistent" in caught.value.message
    assert caught.value.error_id == "tts-voice-unknown"
    assert not list((tmp_path / "audio").glob("*/*.wav"))


def test_without_espeak_ng_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(TtsUnavailable) as caught:
        build(tmp_path / "audio")
    assert "apt-get install espeak-ng" in caught.value.message
    assert caught.value.error_id == "tts-unavailable"


def test_prompt_audio_finds_rendered_files(built_once):
    audio = PromptAudio(built_once)
    assert audio.path_for("hello", "en") == built_once.resolve() / "en" / "hello.wav"
    assert audio.path_for("position", "ko", {"position": 2}) == built_once.resolve() / "ko" / "position-2.wav"
    assert audio.path_for("position", "en", (("position", "3"),)) == built_once.resolve() / "en" / "position-3.wav"
    assert audio.stem_for("position", "en", {"position": "1"}) == built_once.resolve() / "en" / "position-1"
    assert audio.path_for("hello", "en").is_absolute()


@pytest.mark.parametrize("prompt_id, language, params", [
    ("position", "en", {"position": 4}),          # rendered only up to 3 here
    ("position", "en", {"position": PLACEHOLDER_MAX + 1}),
    ("position", "en", {"position": 0}),
    ("position", "en", {"position": "two"}),
    ("position", "en", {"position": True}),
    ("position", "en", {}),                        # the prompt needs its value
    ("position", "en", {"position": 1, "minutes": 2}),
    ("hello", "fr", {}),
    ("goodbye", "en", {}),
])
def test_prompt_audio_answers_none_without_a_file(built_once, prompt_id, language, params):
    audio = PromptAudio(built_once)
    assert audio.path_for(prompt_id, language, params) is None
    assert audio.stem_for(prompt_id, language, params) is None


def test_prompt_audio_reads_the_folder_once(audio_dir, tmp_path):
    audio = PromptAudio(audio_dir)
    (audio_dir / "en" / "hello.wav").unlink()
    assert audio.path_for("hello", "en") is not None  # listed when built; a server sees rebuilds on restart
    assert PromptAudio(audio_dir).path_for("hello", "en") is None
    assert len(PromptAudio(tmp_path / "nowhere")) == 0
    assert audio.served_file("en", "hello.wav") == "en/hello.wav"
    assert audio.served_file("en", "../manifest.json") is None
    assert audio.served_file("..", "manifest.json") is None


def test_progress_counts_every_planned_file(tmp_path):
    seen = []
    build(tmp_path / "audio", progress=lambda done, total, what: seen.append((done, total, what)))
    assert [done for done, _total, _what in seen] == list(range(1, 9))
    assert {total for _done, total, _what in seen} == {8}
    assert sorted(what for *_counts, what in seen) == sorted(f"rendered {path}" for path in FIRST_BUILD)
    assert not [name for name in os.listdir(tmp_path / "audio") if name.endswith(".tmp")]


def test_a_failed_render_is_reported_and_finished_files_are_kept(tmp_path, monkeypatch):
    """espeak-ng is wrapped by a script that refuses one text, as a broken voice would."""
    wrapper_dir = tmp_path / "bin"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "espeak-ng"
    wrapper.write_text('#!/bin/sh\nfor arg in "$@"; do case "$arg" in *REFUSE*) echo "cannot speak this" >&2; exit 1;; esac; done\n'
                       f'exec {shutil.which("espeak-ng")} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper_dir}{os.pathsep}{os.environ['PATH']}")
    audio_dir = tmp_path / "audio"
    with pytest.raises(TtsFailed) as caught:
        build(audio_dir, small_catalog(broken={"en": "REFUSE this."}))
    assert "en/broken.wav" in caught.value.message and "cannot speak this" in caught.value.message
    assert caught.value.error_id == "tts-failed"
    kept = json.loads((audio_dir / MANIFEST_NAME).read_text())["files"]
    assert "en/broken.wav" not in kept
    assert all((audio_dir / path).is_file() for path in kept)
    report = build(audio_dir, small_catalog(broken={"en": "Fixed."}))
    assert "en/broken.wav" in report.rendered
    assert not set(report.rendered) & set(kept)


BILINGUAL = {"menu": {"ko": "한국어는 1번을 누르십시오. [en: For English, press 2.]",
                      "en": "[ko: 한국어는 1번을 누르십시오.] For English, press 2."},
             "welcome": {"ko": "서울시 [digits: 120] 다산콜센터입니다.", "en": "Seoul [digits: 120] Dasan."}}


def test_each_passage_is_rendered_by_its_languages_voice():
    files, _ = plan_files(small_catalog(**BILINGUAL), VOICES, FEW_VALUES)
    parts = {f.relative_path: f.parts for f in files}
    assert parts["ko/menu.wav"] == (("ko", "한국어는 1번을 누르십시오."), ("en-us", "For English, press 2."))
    assert parts["en/menu.wav"] == (("ko", "한국어는 1번을 누르십시오."), ("en-us", "For English, press 2."))
    assert parts["ko/welcome.wav"] == (("ko", "서울시 일이공 다산콜센터입니다."),)
    assert parts["en/welcome.wav"] == (("en-us", "Seoul one two zero Dasan."),)


def test_the_english_passage_of_a_korean_prompt_says_two_not_i():
    # espeak-ng's phonemes (`-x`): the Korean voice reads "press 2" as "pr'Es 'i" (이);
    # the passage, spoken by the English voice, says "t'u:" (two)
    import subprocess

    files, _ = plan_files(small_catalog(**BILINGUAL), VOICES, FEW_VALUES)
    [menu] = [f for f in files if f.relative_path == "ko/menu.wav"]
    heard = [subprocess.run(["espeak-ng", "-q", "-x", "-v", voice, "--", text], capture_output=True, text=True,
                            check=True).stdout for voice, text in menu.parts]
    assert "t'u:" in heard[1] and "'i" not in heard[1]
    assert "'i" in subprocess.run(["espeak-ng", "-q", "-x", "-v", "ko", "--", "For English, press 2."],
                                  capture_output=True, text=True, check=True).stdout


def test_a_bilingual_prompt_renders_to_one_file_holding_both_voices(tmp_path):
    catalog = small_catalog(**BILINGUAL)
    build(tmp_path / "audio", catalog)
    both = read_wav(tmp_path / "audio" / "ko" / "menu.wav")
    korean_only = tmp_path / "ko-only"
    build(korean_only, small_catalog(menu={"ko": "한국어는 1번을 누르십시오."}))
    assert len(both.samples) > len(read_wav(korean_only / "ko" / "menu.wav").samples)
    manifest = json.loads((tmp_path / "audio" / MANIFEST_NAME).read_text())["files"]
    assert manifest["ko/menu.wav"]["voice"] == "ko"
