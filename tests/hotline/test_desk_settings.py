"""The desk's settings in the config: the hotline's time zone, the wrap-up extension."""
from __future__ import annotations

import pytest
import yaml

from hotline.config import load_config
from hotline.errors import ConfigInvalid


def _write(deployment_dir, change):
    path = deployment_dir / "config.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_the_hotline_time_zone_defaults_to_seoul(deployment_dir):
    config = load_config(_write(deployment_dir, lambda d: d["hotline"].pop("timezone", None)))
    assert config.hotline.timezone == "Asia/Seoul"
    assert config.routing.wrapup_extension_seconds == 60


def test_an_unknown_time_zone_is_refused_with_its_field(deployment_dir):
    path = _write(deployment_dir, lambda d: d["hotline"].update(timezone="Asia/Seul"))
    with pytest.raises(ConfigInvalid) as caught:
        load_config(path)
    problems = dict(caught.value.problems)
    assert "IANA time zone" in problems["hotline.timezone"]
