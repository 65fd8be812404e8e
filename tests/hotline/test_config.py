"""An invalid config is refused with the field's path and a plain reason, by the loader
and by `onecall check`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hotline.config import load_config
from hotline.errors import ConfigInvalid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def config_dir(deployment_dir):
    return deployment_dir


def _edit(config_dir: Path, change) -> Path:
    path = config_dir / "config.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_demo_config_is_valid():
    config = load_config(ROOT / "config.yaml")
    assert len(config.skills) >= 6 and len(config.agents) >= 10
    assert set(config.languages) == {"ko", "en"}


@pytest.mark.parametrize("change, field, reason", [
    (lambda d: d["agents"][2]["skills"].update(fines=7), "agents[2].skills.fines", "less than or equal to 5"),
    (lambda d: d["agents"][0]["skills"].update(parking=3), "agents[0].skills.parking", "not a configured skill"),
    (lambda d: d["agents"][1].update(endpoint="kim"), "agents[1].endpoint", "client:<identity>"),
    (lambda d: d["agents"][1].update(id="kim.minji"), "agents[1].id", "used by two agents"),
    (lambda d: d["hotline"].update(default_language="fr"), "hotline.default_language", "not one of the languages"),
    (lambda d: d["routing"].update(reservation_timout_seconds=3), "routing.reservation_timout_seconds", "not a known setting"),
    (lambda d: d["skills"]["water"]["name"].pop("en"), "skills.water.name", "no text in language 'en'"),
    (lambda d: d.pop("agents"), "agents", "is required"),
    (lambda d: d["agents"][3].update(asterisk_device="PJSIP/1001"), "agents[3].asterisk_device", "also the phone of kim.minji"),
    (lambda d: d["agents"][3].update(asterisk_device="1004"), "agents[3].asterisk_device", "should match pattern"),
    (lambda d: d.update(asterisk={"agent_context": "bad context"}), "asterisk.agent_context", "should match pattern"),
])
def test_invalid_config_names_field_and_reason(config_dir, change, field, reason):
    path = _edit(config_dir, change)
    with pytest.raises(ConfigInvalid) as caught:
        load_config(path)
    problems = dict(caught.value.problems)
    assert field in problems, caught.value.message
    assert reason in problems[field]


def test_invalid_flow_is_reported_through_the_config(config_dir):
    flow = config_dir / "flows" / "main.yaml"
    flow.write_text(flow.read_text().replace("next: identify", "next: identfy", 1))
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config_dir / "config.yaml")
    assert any("identfy" in reason for _, reason in caught.value.problems), caught.value.message


def test_onecall_check_prints_problems_and_exits_non_zero(config_dir):
    _edit(config_dir, lambda d: d["agents"][0].update(pin="12"))
    result = subprocess.run([sys.executable, "-m", "onecall.cli", "check", str(config_dir / "config.yaml")],
                            capture_output=True, text=True, cwd=config_dir)
    assert result.returncode == 2
    assert "agents[0].pin" in result.stderr
    ok = subprocess.run([sys.executable, "-m", "onecall.cli", "check", str(ROOT / "config.yaml")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "OK" in ok.stdout


def _edit_catalog(config_dir: Path, change) -> None:
    path = config_dir / "prompts" / "catalog.yaml"
    data = yaml.safe_load(path.read_text())
    change(data["prompts"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("change, reason", [
    (lambda p: p.pop("agent_whisper"), "agent_whisper: is missing"),
    (lambda p: p["please_hold"].pop("en"), "please_hold: has no text in language 'en'"),
    (lambda p: p["queue_position"].update(ko="대기 중입니다.", en="Please wait."), "must use exactly the placeholders"),
])
def test_catalog_must_hold_what_the_drivers_speak(config_dir, change, reason):
    _edit_catalog(config_dir, change)
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config_dir / "config.yaml")
    assert reason in caught.value.message


def test_the_demo_config_names_every_asterisk_setting():
    # config.yaml is where operators learn the settings: each one is there, set or commented
    from pathlib import Path

    from hotline.config import AsteriskConfig

    text = (Path(__file__).resolve().parents[2] / "config.yaml").read_text(encoding="utf-8")
    section = text[text.index("\nasterisk:"):]
    missing = [name for name in AsteriskConfig.model_fields if f"{name}:" not in section]
    assert missing == []
