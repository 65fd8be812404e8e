"""Exact TwiML of `telephony.twilio.twiml`: each document compared whole against a literal, the
way twilio-python tests `VoiceResponse` (tests/unit/twiml/test_voice_response.py; vectors in
../shared/protocol/twilio/twiml_serialization_vectors.json). The library writes the XML
declaration, no whitespace, attributes in alphabetical order, empty elements as `<X />`, and
non-ASCII text as raw UTF-8. Attribute names and values are Twilio's (../shared/protocol/twilio/twiml.md).
"""
from __future__ import annotations

from types import SimpleNamespace

from twilio.twiml.voice_response import VoiceResponse

from ivr.actions import Gather, Hangup, Route, Say
from ivr.prompts import PromptCatalog
from telephony.twilio.twiml import TwimlRenderer, TwimlUrls, Voice, play_urls

CATALOG = PromptCatalog.from_dict({"prompts": {
    "welcome": {"ko": "안녕하세요.", "en": "Welcome."},
    "menu": {"ko": "세금은 1번을 누르세요.", "en": "Press 1 for taxes."},
    "queue_position": {"ko": "현재 대기 순서는 {position}번째입니다.", "en": "You are number {position} in line."},
    "please_hold": {"ko": "잠시만 기다려 주세요.", "en": "Please hold."},
    "agent_connecting": {"ko": "상담원을 연결하고 있습니다.", "en": "Connecting you to an agent."},
    "agent_whisper": {"ko": "민원 전화입니다.", "en": "Hotline call."},
    "goodbye": {"ko": "감사합니다.", "en": "Goodbye."},
    "fees": {"ko": "수수료 & 요금 <안내>", "en": "Fees & charges <info>"},
}})
VOICES = {"ko": Voice("ko-KR", "Polly.Seoyeon", "ko-KR"), "en": Voice("en-US", "Polly.Joanna", "en-US")}
URLS = TwimlUrls(gather="https://h.example/twilio/gather", no_input="https://h.example/twilio/no-input",
                 wait="https://h.example/twilio/wait", queue_exit="https://h.example/twilio/queue-exit")
SID = "CA0123456789abcdef0123456789abcdef"
ROUTE = Route(skill="local_tax", language="ko", priority=0, citizen_id=None, verification="none")


def renderer(play_url=None) -> TwimlRenderer:
    return TwimlRenderer(CATALOG, VOICES, play_url)


def menu(language="ko", input=("dtmf",), num_digits=1, finish_on_key="", timeout=5, hints=()) -> Gather:
    return Gather(prompts=(Say("welcome", language), Say("menu", language)), language=language, input=input,
                  num_digits=num_digits, finish_on_key=finish_on_key, timeout_seconds=timeout, hints=hints)


class CountingPlayUrl:
    """A play_url that plays English prompts only and counts the Says it was asked about."""

    def __init__(self):
        self.calls: list[Say] = []

    def __call__(self, say: Say) -> str | None:
        self.calls.append(say)
        return f"https://h.example/prompts/audio/en/{say.prompt}.wav" if say.language == "en" else None


# -- menus (Gather) ----------------------------------------------------------------------

def test_dtmf_menu_says_prompts_in_gather_then_redirects_to_no_input():
    assert renderer().render((menu(),), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="https://h.example/twilio/gather" finishOnKey="" input="dtmf" method="POST"'
        ' numDigits="1" timeout="5">'
        '<Say language="ko-KR" voice="Polly.Seoyeon">안녕하세요.</Say>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">세금은 1번을 누르세요.</Say>'
        '</Gather>'
        '<Redirect method="POST">https://h.example/twilio/no-input</Redirect>'
        '</Response>')


def test_dtmf_menu_without_num_digits_and_hash_finish_key():
    gather = menu(language="en", num_digits=None, finish_on_key="#", timeout=8)
    assert renderer().render((gather,), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="https://h.example/twilio/gather" finishOnKey="#" input="dtmf" method="POST" timeout="8">'
        '<Say language="en-US" voice="Polly.Joanna">Welcome.</Say>'
        '<Say language="en-US" voice="Polly.Joanna">Press 1 for taxes.</Say>'
        '</Gather>'
        '<Redirect method="POST">https://h.example/twilio/no-input</Redirect>'
        '</Response>')


def test_speech_menu_adds_recognition_language_auto_timeout_and_hints():
    gather = menu(input=("dtmf", "speech"), hints=("세금", "상담원"))
    assert renderer().render((gather,), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="https://h.example/twilio/gather" finishOnKey="" hints="세금, 상담원" input="dtmf speech"'
        ' language="ko-KR" method="POST" numDigits="1" speechTimeout="auto" timeout="5">'
        '<Say language="ko-KR" voice="Polly.Seoyeon">안녕하세요.</Say>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">세금은 1번을 누르세요.</Say>'
        '</Gather>'
        '<Redirect method="POST">https://h.example/twilio/no-input</Redirect>'
        '</Response>')


def test_speech_menu_without_hints_has_no_hints_attribute():
    gather = menu(language="en", input=("dtmf", "speech"), num_digits=None, finish_on_key="#")
    assert renderer().render((gather,), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="https://h.example/twilio/gather" finishOnKey="#" input="dtmf speech" language="en-US"'
        ' method="POST" speechTimeout="auto" timeout="5">'
        '<Say language="en-US" voice="Polly.Joanna">Welcome.</Say>'
        '<Say language="en-US" voice="Polly.Joanna">Press 1 for taxes.</Say>'
        '</Gather>'
        '<Redirect method="POST">https://h.example/twilio/no-input</Redirect>'
        '</Response>')


def test_says_before_the_gather_are_spoken_outside_it():
    assert renderer().render((Say("goodbye", "en"), menu(language="en")), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="en-US" voice="Polly.Joanna">Goodbye.</Say>'
        '<Gather action="https://h.example/twilio/gather" finishOnKey="" input="dtmf" method="POST"'
        ' numDigits="1" timeout="5">'
        '<Say language="en-US" voice="Polly.Joanna">Welcome.</Say>'
        '<Say language="en-US" voice="Polly.Joanna">Press 1 for taxes.</Say>'
        '</Gather>'
        '<Redirect method="POST">https://h.example/twilio/no-input</Redirect>'
        '</Response>')


# -- placeholders, hang-up ---------------------------------------------------------------

def test_placeholder_is_filled_into_the_said_text():
    position = Say("queue_position", "ko", (("position", "3"),))
    assert renderer().render((position, Hangup()), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">현재 대기 순서는 3번째입니다.</Say>'
        '<Hangup />'
        '</Response>')


def test_spoken_then_hangup_with_a_say():
    assert renderer().spoken_then_hangup(Say("goodbye", "en")) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="en-US" voice="Polly.Joanna">Goodbye.</Say><Hangup />'
        '</Response>')


def test_spoken_then_hangup_without_a_say_only_hangs_up():
    assert renderer().spoken_then_hangup(None) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>')


# -- routing: the caller's own conference ------------------------------------------------

def test_route_step_joins_the_callers_own_conference():
    assert renderer().render((Say("please_hold", "ko"), ROUTE), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">잠시만 기다려 주세요.</Say>'
        '<Dial action="https://h.example/twilio/queue-exit" method="POST">'
        '<Conference beep="false" endConferenceOnExit="true" startConferenceOnEnter="false"'
        ' waitMethod="POST" waitUrl="https://h.example/twilio/wait">oc-CA0123456789abcdef0123456789abcdef</Conference>'
        '</Dial>'
        '</Response>')


def test_wait_for_agent_is_only_the_conference_leg():
    assert renderer().wait_for_agent(SID, URLS) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Dial action="https://h.example/twilio/queue-exit" method="POST">'
        '<Conference beep="false" endConferenceOnExit="true" startConferenceOnEnter="false"'
        ' waitMethod="POST" waitUrl="https://h.example/twilio/wait">oc-CA0123456789abcdef0123456789abcdef</Conference>'
        '</Dial>'
        '</Response>')


def test_agent_joins_after_the_whisper_and_starts_the_conference():
    assert renderer().agent_joins(SID, Say("agent_whisper", "ko")) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">민원 전화입니다.</Say>'
        '<Dial><Conference beep="false" endConferenceOnExit="true" startConferenceOnEnter="true">'
        'oc-CA0123456789abcdef0123456789abcdef</Conference></Dial>'
        '</Response>')


def test_agent_joins_without_whisper():
    assert renderer().agent_joins(SID, None) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Dial><Conference beep="false" endConferenceOnExit="true" startConferenceOnEnter="true">'
        'oc-CA0123456789abcdef0123456789abcdef</Conference></Dial>'
        '</Response>')


# -- the hold loop (conference waitUrl) --------------------------------------------------

def test_waiting_announces_the_position_pauses_and_loops():
    assert renderer().waiting("en", 2, 20, URLS.wait) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="en-US" voice="Polly.Joanna">You are number 2 in line.</Say>'
        '<Pause length="20" />'
        '<Redirect method="POST">https://h.example/twilio/wait</Redirect>'
        '</Response>')


def test_waiting_with_an_agent_on_the_way_says_agent_connecting():
    assert renderer().waiting("ko", 2, 5, URLS.wait, agent_on_the_way=True) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">상담원을 연결하고 있습니다.</Say>'
        '<Pause length="5" />'
        '<Redirect method="POST">https://h.example/twilio/wait</Redirect>'
        '</Response>')


def test_waiting_without_a_position_says_please_hold():
    assert renderer().waiting("ko", None, 20, URLS.wait) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">잠시만 기다려 주세요.</Say>'
        '<Pause length="20" />'
        '<Redirect method="POST">https://h.example/twilio/wait</Redirect>'
        '</Response>')


# -- play_url: <Play> instead of <Say>, and the menu cache --------------------------------

def test_play_url_turns_a_say_into_play():
    play_url = CountingPlayUrl()
    assert renderer(play_url).render((menu(language="en"),), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="https://h.example/twilio/gather" finishOnKey="" input="dtmf" method="POST"'
        ' numDigits="1" timeout="5">'
        '<Play>https://h.example/prompts/audio/en/welcome.wav</Play>'
        '<Play>https://h.example/prompts/audio/en/menu.wav</Play>'
        '</Gather>'
        '<Redirect method="POST">https://h.example/twilio/no-input</Redirect>'
        '</Response>')
    assert renderer(play_url).waiting("en", 4, 20, URLS.wait) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Play>https://h.example/prompts/audio/en/queue_position.wav</Play>'
        '<Pause length="20" />'
        '<Redirect method="POST">https://h.example/twilio/wait</Redirect>'
        '</Response>')


def test_a_say_without_play_url_stays_say():
    assert renderer(CountingPlayUrl()).spoken_then_hangup(Say("goodbye", "ko")) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">감사합니다.</Say><Hangup />'
        '</Response>')


def test_menu_documents_are_built_once():
    play_url = CountingPlayUrl()
    twiml = renderer(play_url)
    first = twiml.render((menu(language="en"),), URLS, "CA1")
    second = twiml.render((menu(language="en"),), URLS, "CA2")  # another call, same menu
    assert second == first
    assert play_url.calls == [Say("welcome", "en"), Say("menu", "en")]
    assert "CA1" not in first
    twiml.render((menu(language="ko"),), URLS, "CA1")  # a different menu is built
    assert len(play_url.calls) == 4


def test_route_documents_are_built_per_call_with_its_sid():
    play_url = CountingPlayUrl()
    twiml = renderer(play_url)
    first = twiml.render((Say("please_hold", "en"), ROUTE), URLS, "CA1")
    second = twiml.render((Say("please_hold", "en"), ROUTE), URLS, "CA2")
    assert ">oc-CA1</Conference>" in first
    assert ">oc-CA2</Conference>" in second
    assert first.replace("CA1", "CA2") == second
    assert len(play_url.calls) == 2


# -- play_urls: which Says are played ------------------------------------------------------

class FakeAudio:
    """A PromptAudio stand-in: the rendered files, as '<language>/<file>.wav'."""

    def __init__(self, *files: str):
        self.files = set(files)

    def relative_path(self, prompt_id, language, params=()):
        value = dict(params).get("position")
        path = f"{language}/{prompt_id if value is None else f'{prompt_id}-{value}'}.wav"
        return path if path in self.files else None


LANGUAGES = {"ko": SimpleNamespace(twilio_prompts="say"), "en": SimpleNamespace(twilio_prompts="play")}


def test_play_urls_is_none_when_no_language_plays():
    languages = {"ko": SimpleNamespace(twilio_prompts="say"), "en": SimpleNamespace(twilio_prompts="say")}
    assert play_urls(languages, FakeAudio("en/goodbye.wav"), "https://h.example") is None


def test_play_urls_plays_existing_files_of_playing_languages_only():
    play_url = play_urls(LANGUAGES, FakeAudio("en/goodbye.wav", "ko/goodbye.wav", "en/queue_position-2.wav"),
                         "https://h.example")
    assert play_url(Say("goodbye", "en")) == "https://h.example/prompts/audio/en/goodbye.wav"
    assert play_url(Say("queue_position", "en", (("position", "2"),))) == (
        "https://h.example/prompts/audio/en/queue_position-2.wav")
    assert play_url(Say("queue_position", "en", (("position", "25"),))) is None  # not rendered
    assert play_url(Say("goodbye", "ko")) is None  # rendered, but ko says


def test_renderer_with_play_urls_mixes_play_and_say():
    play_url = play_urls(LANGUAGES, FakeAudio("en/goodbye.wav"), "https://h.example")
    assert renderer(play_url).render((Say("goodbye", "en"), Say("welcome", "en"), Hangup()), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Play>https://h.example/prompts/audio/en/goodbye.wav</Play>'
        '<Say language="en-US" voice="Polly.Joanna">Welcome.</Say>'
        '<Hangup />'
        '</Response>')


# -- escaping and UTF-8 ------------------------------------------------------------------

def test_twilio_python_writes_non_ascii_as_utf8_not_character_references():
    response = VoiceResponse()
    response.say("안녕 & <bye>")
    assert response.to_xml() == '<?xml version="1.0" encoding="UTF-8"?><Response><Say>안녕 &amp; &lt;bye&gt;</Say></Response>'


def test_text_and_urls_are_xml_escaped_and_korean_stays_utf8():
    urls = TwimlUrls(gather="https://h.example/twilio/gather?step=menu&lang=ko",
                     no_input="https://h.example/twilio/no-input?step=menu&lang=ko",
                     wait=URLS.wait, queue_exit=URLS.queue_exit)
    gather = Gather(prompts=(Say("fees", "ko"), Say("fees", "en")), language="ko", input=("dtmf", "speech"),
                    num_digits=1, finish_on_key="", timeout_seconds=5, hints=("요금 & 수수료", '"A"<B>'))
    document = renderer().render((gather,), urls, SID)
    assert document == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="https://h.example/twilio/gather?step=menu&amp;lang=ko" finishOnKey=""'
        ' hints="요금 &amp; 수수료, &quot;A&quot;&lt;B&gt;" input="dtmf speech" language="ko-KR" method="POST"'
        ' numDigits="1" speechTimeout="auto" timeout="5">'
        '<Say language="ko-KR" voice="Polly.Seoyeon">수수료 &amp; 요금 &lt;안내&gt;</Say>'
        '<Say language="en-US" voice="Polly.Joanna">Fees &amp; charges &lt;info&gt;</Say>'
        '</Gather>'
        '<Redirect method="POST">https://h.example/twilio/no-input?step=menu&amp;lang=ko</Redirect>'
        '</Response>')
    assert "수수료".encode() in document.encode("utf-8")


def test_a_passage_in_another_language_is_said_by_that_languages_voice():
    catalog = PromptCatalog.from_dict({"prompts": {
        "language_menu": {"ko": "한국어는 1번을 누르십시오. [en: For English, press 2.]",
                          "en": "[ko: 한국어는 1번을 누르십시오.] For English, press 2."},
        "welcome": {"ko": "서울시 [digits: 120] 다산콜센터입니다.", "en": "Seoul [digits: 120] Dasan Call Center."},
    }})
    gather = Gather(prompts=(Say("welcome", "ko"), Say("language_menu", "ko")), language="ko", input=("dtmf",),
                    num_digits=1, finish_on_key="", timeout_seconds=5, hints=())
    assert TwimlRenderer(catalog, VOICES).render((gather,), URLS, SID) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="https://h.example/twilio/gather" finishOnKey="" input="dtmf" method="POST"'
        ' numDigits="1" timeout="5">'
        '<Say language="ko-KR" voice="Polly.Seoyeon">서울시 일이공 다산콜센터입니다.</Say>'
        '<Say language="ko-KR" voice="Polly.Seoyeon">한국어는 1번을 누르십시오.</Say>'
        '<Say language="en-US" voice="Polly.Joanna">For English, press 2.</Say>'
        '</Gather>'
        '<Redirect method="POST">https://h.example/twilio/no-input</Redirect>'
        '</Response>')
