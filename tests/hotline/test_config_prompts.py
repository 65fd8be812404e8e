"""The config settings of prompt audio, and the rule that every flow prompt exists in every
configured language (checked when the config loads, so a build never meets a gap)."""
from __future__ import annotations

import pytest
import yaml

from hotline.config import load_config
from hotline.errors import ConfigInvalid
from hotline.audio.render import tts_voices


def edit(path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_demo_voices_and_audio_folder(demo_config):
    assert tts_voices(demo_config) == {"ko": "ko", "en": "en-us"}
    assert demo_config.prompt_audio_dir == demo_config.base_dir / "prompts" / "audio"
    assert {language.twilio_prompts for language in demo_config.languages.values()} == {"say"}


def test_voice_defaults_to_the_language_code_and_folder_follows_the_catalog(deployment_dir):
    (deployment_dir / "catalogs").mkdir()
    (deployment_dir / "prompts" / "catalog.yaml").rename(deployment_dir / "catalogs" / "main.yaml")
    edit(deployment_dir / "config.yaml", lambda d: (d["languages"]["en"].pop("tts_voice"),
                                                    d["files"].update(prompts="catalogs/main.yaml")))
    config = load_config(deployment_dir / "config.yaml")
    assert tts_voices(config)["en"] == "en"  # espeak-ng speaks British English for "en"
    assert config.prompt_audio_dir == deployment_dir / "catalogs" / "audio"


def test_prompt_audio_folder_is_relative_to_the_config_file(deployment_dir, tmp_path):
    edit(deployment_dir / "config.yaml", lambda d: d["files"].update(prompt_audio="sounds/onecall"))
    assert load_config(deployment_dir / "config.yaml").prompt_audio_dir == deployment_dir / "sounds" / "onecall"
    edit(deployment_dir / "config.yaml", lambda d: d["files"].update(prompt_audio=str(tmp_path / "abs")))
    assert load_config(deployment_dir / "config.yaml").prompt_audio_dir == tmp_path / "abs"


@pytest.mark.parametrize("field, value, reason", [
    ("twilio_prompts", "sing", "'say' or 'play'"),
    ("tts_voice", "-w /etc/passwd", "should match pattern"),
])
def test_bad_language_settings_are_refused(deployment_dir, field, value, reason):
    edit(deployment_dir / "config.yaml", lambda d: d["languages"]["en"].update({field: value}))
    with pytest.raises(ConfigInvalid) as caught:
        load_config(deployment_dir / "config.yaml")
    problems = dict(caught.value.problems)
    assert reason in problems[f"languages.en.{field}"]


def test_a_flow_prompt_missing_in_a_configured_language_refuses_the_config(deployment_dir):
    edit(deployment_dir / "prompts" / "catalog.yaml", lambda d: d["prompts"]["goodbye"].pop("en"))
    with pytest.raises(ConfigInvalid) as caught:
        load_config(deployment_dir / "config.yaml")
    [(field, reason)] = caught.value.problems
    assert field == "files.flow (flows/main.yaml) nodes.goodbye.prompt"
    assert reason == "prompt 'goodbye' has no 'en' text in the prompt catalog"


def test_a_passage_in_a_language_the_hotline_does_not_speak_is_refused(deployment_dir):
    catalog = deployment_dir / "prompts" / "catalog.yaml"
    edit(catalog, lambda d: d["prompts"]["goodbye"].update(ko="감사합니다. [ja: ありがとうございました。]"))
    with pytest.raises(ConfigInvalid) as caught:
        load_config(deployment_dir / "config.yaml")
    assert ("files.prompts (prompts/catalog.yaml) goodbye.ko",
            "has a [ja: …] passage, but 'ja' is not a language of this hotline (en, ko)") in caught.value.problems
