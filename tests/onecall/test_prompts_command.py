"""`onecall prompts build` as a user runs it: the demo catalog rendered beside itself, a
rebuild that renders nothing, removal of a prompt's files, and clear failures."""
from __future__ import annotations

import os
import subprocess
import sys

import yaml

from hotline.audio.render import PLACEHOLDER_MAX
from tests.hotline.audio.helpers import read_wav

DEMO_PLAIN_PROMPTS = 15  # prompts/catalog.yaml: 17 prompts, 2 of them with one placeholder
DEMO_FILES = 2 * (DEMO_PLAIN_PROMPTS + 2 * PLACEHOLDER_MAX)  # in ko and en
SHORT_FILES = 2 * (DEMO_PLAIN_PROMPTS + PLACEHOLDER_MAX)  # with_short_texts: queue_position's numbers only


def onecall(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "onecall.cli", *args], cwd=cwd, env=env or os.environ.copy(),
                          capture_output=True, text=True, timeout=120)


def without_prompts(deployment_dir, *prompt_ids: str) -> None:
    catalog = deployment_dir / "prompts" / "catalog.yaml"
    data = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    for prompt_id in prompt_ids:
        del data["prompts"][prompt_id]
    catalog.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_build_the_demo_catalog_then_rebuild_then_drop_a_prompt(deployment_dir):
    first = onecall("prompts", "build", cwd=deployment_dir)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"prompts/audio: {DEMO_FILES} rendered, 0 unchanged, 0 removed"
    progress = first.stderr.splitlines()
    assert len(progress) == DEMO_FILES and progress[-1].startswith(f"[{DEMO_FILES}/{DEMO_FILES}] rendered ")
    audio = deployment_dir / "prompts" / "audio"
    for relative in ("ko/welcome.wav", "en/goodbye.wav", "ko/queue_position-1.wav", f"en/expected_wait-{PLACEHOLDER_MAX}.wav"):
        wav = read_wav(audio / relative)
        assert (wav.sample_rate, wav.channels, wav.sample_width) == (8000, 1, 2)
        assert wav.rms > 300
    assert not (audio / "en" / f"queue_position-{PLACEHOLDER_MAX + 1}.wav").exists()

    again = onecall("prompts", "build", cwd=deployment_dir)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"prompts/audio: 0 rendered, {DEMO_FILES} unchanged, 0 removed"

    without_prompts(deployment_dir, "callback_offer")  # not used by the flow
    dropped = onecall("prompts", "build", cwd=deployment_dir)
    assert dropped.stdout.strip() == f"prompts/audio: 0 rendered, {DEMO_FILES - 2} unchanged, 2 removed"
    assert not list(audio.glob("*/callback_offer.wav"))


def with_short_texts(deployment_dir) -> None:
    """Every prompt a word long, expected_wait left out: a build of seconds. queue_position
    stays (the drivers need it), as just its number."""
    catalog = deployment_dir / "prompts" / "catalog.yaml"
    data = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    data["prompts"] = {pid: {language: "{position}." if pid == "queue_position" else "Hello." for language in texts}
                       for pid, texts in data["prompts"].items() if pid != "expected_wait"}
    catalog.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_out_and_config_flags(deployment_dir, tmp_path):
    with_short_texts(deployment_dir)
    out = tmp_path / "elsewhere"
    result = onecall("prompts", "build", "--config", str(deployment_dir / "config.yaml"), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"elsewhere: {SHORT_FILES} rendered, 0 unchanged, 0 removed"
    assert (out / "ko" / "goodbye.wav").is_file() and (out / "manifest.json").is_file()
    assert not (deployment_dir / "prompts" / "audio").exists()
    forced = onecall("prompts", "build", "--force", "--out", str(out), cwd=tmp_path,
                     env={**os.environ, "ONECALL_CONFIG": str(deployment_dir / "config.yaml")})
    assert forced.stdout.strip() == f"elsewhere: {SHORT_FILES} rendered, 0 unchanged, 0 removed"


def test_without_espeak_ng_the_command_fails_with_the_install_hint(deployment_dir, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = onecall("prompts", "build", cwd=deployment_dir, env={**os.environ, "PATH": str(empty)})
    assert result.returncode == 1
    assert "espeak-ng is not installed" in result.stderr and "apt-get install espeak-ng" in result.stderr
    assert result.stdout == ""


def test_an_unknown_voice_fails_naming_the_setting(deployment_dir):
    config = deployment_dir / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("tts_voice: en-us", "tts_voice: xx-none"), encoding="utf-8")
    result = onecall("prompts", "build", cwd=deployment_dir)
    assert result.returncode == 1
    assert "languages.en.tts_voice" in result.stderr and "xx-none" in result.stderr
