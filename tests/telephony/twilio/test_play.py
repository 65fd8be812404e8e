"""Twilio with `twilio_prompts: play`: rendered prompts are `<Play>`ed from the app's own
`/prompts/audio/...` URLs, `<Say>` stays where no file exists, and the app serves the files."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest
import yaml

from ivr.actions import Gather, Hangup, Say
from ivr.prompts import PromptCatalog
from telephony.twilio.twiml import TwimlUrls
from hotline.config import load_config
from hotline.audio.render import build_prompt_audio
from onecall.settings import Settings
from tests.conftest import ACCOUNT_SID, API_TOKEN, AUTH_TOKEN, PUBLIC_URL, start_web_process
from tests.hotline.audio.helpers import FEW_VALUES, VOICES
from tests.telephony.twilio.test_twiml_schema import _validate, schema  # noqa: F401 (schema is a fixture)

URLS = TwimlUrls("https://h/g", "https://h/n", "https://h/w", "https://h/q")
RENDERED = ("goodbye", "queue_position", "language_menu")


@pytest.fixture(scope="module")
def rendered_audio(tmp_path_factory, demo_config):
    """A few demo prompts rendered in both languages, once for this module."""
    catalog = demo_config.catalog
    subset = PromptCatalog.from_dict({"prompts": {pid: {lang: catalog.text(pid, lang, position="{position}")
                                                        for lang in ("ko", "en")} for pid in RENDERED}})
    audio_dir = tmp_path_factory.mktemp("twilio-play") / "audio"
    build_prompt_audio(subset, VOICES, audio_dir, values=FEW_VALUES)
    return audio_dir


@pytest.fixture()
def play_config(deployment_dir, rendered_audio):
    """The demo deployment with English prompts played, and those files in its audio folder."""
    path = deployment_dir / "config.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["languages"]["en"]["twilio_prompts"] = "play"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = load_config(path)
    shutil.copytree(rendered_audio, config.prompt_audio_dir)
    return config


@pytest.fixture()
def play_web(play_config, redis_url, redis_client):

    settings = Settings(config_path=play_config.source, redis_url=redis_url, public_url=PUBLIC_URL,
                        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_api_base_url=None,
                        api_token=API_TOKEN, secret_key="test-secret-key", screenpop_url=None, screenpop_secret=None,
                        demo_secrets=False)  # no agent is rung here
    web = start_web_process(play_config, settings, redis_client, background=False)
    yield web
    web.stop()


def verbs(xml: str) -> list[tuple[str, str]]:
    return [(element.tag, (element.text or "").strip()) for element in ET.fromstring(xml).iter() if element.tag in ("Say", "Play")]


def test_rendered_prompts_are_played_from_the_public_url(play_web):
    renderer = play_web.twilio.renderer
    document = renderer.render((Say("goodbye", "en"), Hangup()), URLS, "CA1")
    assert verbs(document) == [("Play", f"{PUBLIC_URL}/prompts/audio/en/goodbye.wav")]
    waiting = renderer.waiting("en", 2, 20, "https://h/w")
    assert verbs(waiting) == [("Play", f"{PUBLIC_URL}/prompts/audio/en/queue_position-2.wav")]


def test_say_stays_where_no_file_exists_or_the_language_says(play_web):
    renderer = play_web.twilio.renderer
    assert verbs(renderer.waiting("en", 25, 20, "https://h/w")) == [("Say", "You are number 25 in line.")]  # not rendered here
    assert verbs(renderer.render((Say("welcome", "en"), Hangup()), URLS, "CA1"))[0][0] == "Say"
    korean = verbs(renderer.render((Say("goodbye", "ko"), Hangup()), URLS, "CA1"))  # rendered, but ko says
    [passage] = play_web.application.config.catalog.spoken("goodbye", "ko")
    assert korean == [("Say", passage.text)]


def test_played_prompts_are_valid_twiml(play_web, schema):  # noqa: F811
    renderer = play_web.twilio.renderer
    menu = Gather(prompts=(Say("language_menu", "en"), Say("welcome", "en")), language="en", input=("dtmf",),
                  num_digits=1, finish_on_key="", timeout_seconds=5)
    documents = [renderer.render((menu,), URLS, ""), renderer.waiting("en", 3, 20, "https://h/w"),
                 renderer.spoken_then_hangup(Say("goodbye", "en"))]
    assert ET.fromstring(documents[0]).find("Gather/Play") is not None
    for document in documents:
        _validate(document.encode(), schema)


def test_the_app_serves_rendered_files(play_web, play_config):
    client = play_web.app.test_client()
    response = client.get("/prompts/audio/en/queue_position-3.wav")  # no signature, no token
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.get_data() == (play_config.prompt_audio_dir / "en" / "queue_position-3.wav").read_bytes()
    assert response.get_data()[:4] == b"RIFF"


@pytest.mark.parametrize("path", [
    "/prompts/audio/en/welcome.wav",              # not rendered
    "/prompts/audio/fr/goodbye.wav",
    "/prompts/audio/manifest.json",
    "/prompts/audio/en/../manifest.json",
    "/prompts/audio/en/..%2F..%2Fconfig.yaml",
    "/prompts/audio/..%2F..%2Fprompts/catalog.wav",
    "/prompts/audio/en/%2E%2E%2Fko%2Fgoodbye.wav",
])
def test_the_app_serves_nothing_else(play_web, path):
    assert play_web.app.test_client().get(path).status_code == 404


def test_a_file_added_after_start_is_not_served(play_web, play_config):
    (play_config.prompt_audio_dir / "en" / "extra.wav").write_bytes(b"RIFF")
    assert play_web.app.test_client().get("/prompts/audio/en/extra.wav").status_code == 404
