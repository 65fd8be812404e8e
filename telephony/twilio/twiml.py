"""Twilio driver, output side: flow actions and routing moments -> TwiML documents.

Only `twilio.twiml.voice_response` builds TwiML here (never string templates), so every
document is well-formed and uses the verbs and attributes Twilio's own library knows.
Pure: the caller passes the prompt catalog, the language settings and the URLs.

A prompt is spoken with `<Say>`, or played with `<Play>` when the caller's `play_url`
gives a URL for it (audio rendered ahead of calls, served by the web tier).

The caller of a routed call waits in a conference of their own (`hotline.calls.room_name`): the
agent joins it when they answer, and a later expert consult can join the same room
without moving the citizen.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping, Sequence

from twilio.twiml.voice_response import Dial, Gather as GatherVerb, VoiceResponse

from ivr.actions import Gather, Hangup, Route, Say
from ivr.hold import hold_announcement
from hotline.audio.render import URL_PATH as AUDIO_URL_PATH
from hotline.calls import room_name
from ivr.prompts import PromptCatalog


@dataclass(frozen=True)
class Voice:
    """How one language is spoken and heard on Twilio (from config `languages`)."""

    say_language: str
    voice: str
    speech_language: str


@dataclass(frozen=True)
class TwimlUrls:
    """Absolute URLs Twilio is told to fetch next."""

    gather: str
    no_input: str
    wait: str
    queue_exit: str


class TwimlRenderer:
    def __init__(self, catalog: PromptCatalog, voices: Mapping[str, Voice],
                 play_url: Callable[[Say], str | None] | None = None) -> None:
        self._catalog = catalog
        self._voices = voices
        self._play_url = play_url  # the same answer for the same Say, so cached menus stay right
        # Menu documents hold no call-specific data, so each distinct one is built once.
        self._render_menu = lru_cache(maxsize=1024)(self._render_steps)

    def _say(self, parent, say: Say) -> None:
        url = self._play_url(say) if self._play_url is not None else None
        if url is not None:
            parent.play(url)
            return
        # one <Say> per passage: "[en: press 2]" in a Korean prompt is said by the English voice
        for passage in self._catalog.spoken(say.prompt, say.language, **dict(say.params)):
            voice = self._voices.get(passage.language) or self._voices[say.language]
            parent.say(passage.text, language=voice.say_language, voice=voice.voice)

    def _gather(self, response: VoiceResponse, gather: Gather, urls: TwimlUrls) -> None:
        voice = self._voices[gather.language]
        attributes = {
            "input": " ".join(gather.input),
            "action": urls.gather,
            "method": "POST",
            "timeout": gather.timeout_seconds,
            "finish_on_key": gather.finish_on_key,
        }
        if gather.num_digits:
            attributes["num_digits"] = gather.num_digits
        if "speech" in gather.input:
            attributes["language"] = voice.speech_language
            attributes["speech_timeout"] = "auto"
            if gather.hints:
                attributes["hints"] = ", ".join(gather.hints)
        verb = GatherVerb(**attributes)
        for say in gather.prompts:
            self._say(verb, say)
        response.append(verb)
        # Twilio skips the action URL when nothing was entered; this tells the flow.
        response.redirect(urls.no_input, method="POST")

    def render(self, actions: Sequence, urls: TwimlUrls, call_sid: str) -> str:
        """The TwiML for one flow step. A step ends in Gather, Route or Hangup."""
        if any(isinstance(action, Route) for action in actions):
            return self._render_steps(tuple(actions), urls, call_sid)
        return self._render_menu(tuple(actions), urls, "")

    def _render_steps(self, actions: tuple, urls: TwimlUrls, call_sid: str) -> str:
        response = VoiceResponse()
        for action in actions:
            if isinstance(action, Say):
                self._say(response, action)
            elif isinstance(action, Gather):
                self._gather(response, action, urls)
            elif isinstance(action, Route):
                self._join_own_conference(response, call_sid, urls)
            elif isinstance(action, Hangup):
                response.hangup()
        return response.to_xml()

    def wait_for_agent(self, call_sid: str, urls: TwimlUrls) -> str:
        """Only the caller's conference leg (for a repeated request of an already routed call)."""
        response = VoiceResponse()
        self._join_own_conference(response, call_sid, urls)
        return response.to_xml()

    @staticmethod
    def _join_own_conference(response: VoiceResponse, call_sid: str, urls: TwimlUrls) -> None:
        dial = Dial(action=urls.queue_exit, method="POST")
        dial.conference(
            room_name(call_sid),
            start_conference_on_enter=False,
            end_conference_on_exit=True,
            beep=False,
            wait_url=urls.wait,
            wait_method="POST",
        )
        response.append(dial)

    def waiting(self, language: str, position: int | None, pause_seconds: int, wait_url: str,
                agent_on_the_way: bool = False) -> str:
        """The conference hold loop: where the caller stands, a pause, then back here."""
        response = VoiceResponse()
        self._say(response, hold_announcement(language, position, agent_on_the_way))
        response.pause(length=pause_seconds)
        response.redirect(wait_url, method="POST")
        return response.to_xml()

    @staticmethod
    def hold_on(pause_seconds: int, wait_url: str) -> str:
        """The hold loop with nothing to say (OneCall could not look the call up): a pause,
        then back to the wait URL."""
        response = VoiceResponse()
        response.pause(length=pause_seconds)
        response.redirect(wait_url, method="POST")
        return response.to_xml()

    def agent_joins(self, call_sid: str, whisper: Say | None) -> str:
        """What the agent's leg runs on answer: an optional whisper, then the caller's conference."""
        response = VoiceResponse()
        if whisper is not None:
            self._say(response, whisper)
        dial = Dial()
        dial.conference(
            room_name(call_sid),
            start_conference_on_enter=True,
            end_conference_on_exit=True,
            beep=False,
        )
        response.append(dial)
        return response.to_xml()

    def spoken_then_hangup(self, say: Say | None) -> str:
        response = VoiceResponse()
        if say is not None:
            self._say(response, say)
        response.hangup()
        return response.to_xml()


def play_urls(languages, audio, base_url: str) -> Callable[[Say], str | None] | None:
    """For the renderer: the URL to `<Play>` for a Say, or None to `<Say>` it.

    Only languages with `twilio_prompts: play` play files (`audio`, a `PromptAudio`, lists
    those `onecall prompts build` rendered), and only files that exist; None when no
    language plays files.
    """
    playing = frozenset(code for code, language in languages.items() if language.twilio_prompts == "play")
    if not playing:
        return None

    def play_url(say: Say) -> str | None:
        if say.language not in playing:
            return None
        relative = audio.relative_path(say.prompt, say.language, say.params)
        return None if relative is None else f"{base_url}{AUDIO_URL_PATH}/{relative}"

    return play_url
