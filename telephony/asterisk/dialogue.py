"""Flow actions -> AGI commands on one channel, and what the caller did -> flow events.

The same Gather semantics as the Twilio driver, so a flow behaves alike on both:
prompts play with barge-in (any key stops them and counts as the first digit), then each
further key is awaited for `timeout_seconds`; input ends at `num_digits` or at the finish
key (which is not part of the digits); nothing entered is NoInput. Asterisk has no speech
recognition here, so a Gather on Asterisk listens for keys only.

Prompts are the files `onecall prompts build` rendered, named by prompt, language and (for
a prompt with one number in it, such as a queue position) that number.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from ivr.actions import Gather, Say
from telephony.asterisk.agi import AgiSession, quote
from hotline.calls import room_name
from ivr.events import DigitsEntered, Event, NoInput

log = logging.getLogger(__name__)

ALL_KEYS = "0123456789*#"


@dataclass(frozen=True)
class PromptFiles:
    """Where each prompt's audio is as Asterisk sees it: a path without extension."""

    sounds_dir: str
    max_number: int  # prompts with a number are rendered for 1..max_number

    def stem(self, say: Say) -> str | None:
        base = f"{self.sounds_dir.rstrip('/')}/{say.language}/{say.prompt}"
        if not say.params:
            return base
        if len(say.params) != 1:
            return None
        value = say.params[0][1]
        if not value.isdigit() or not 1 <= int(value) <= self.max_number:
            return None  # no such recording: the caller hears the next prompt instead
        return f"{base}-{int(value)}"


@dataclass(frozen=True)
class Bridging:
    """The per-call ConfBridge room both parties (and later an expert) join."""

    bridge_profile: str
    caller_profile: str
    agent_profile: str
    music_class: str


class AgiDialogue:
    def __init__(self, session: AgiSession, files: PromptFiles) -> None:
        self.session = session
        self._files = files

    async def play(self, say: Say, escape_keys: str = "") -> str | None:
        """Play one prompt; returns the key that interrupted it, if any."""
        stem = self._files.stem(say)
        if stem is None:
            log.warning("no audio for prompt %s%s in %s", say.prompt, dict(say.params), say.language)
            return None
        reply = await self.session.command("STREAM FILE", quote(stem), quote(escape_keys))
        if reply.code != 200 or reply.result == "-1":
            log.warning("could not play %s on %s: %s", stem, self.session.uniqueid, reply.text)
            return None
        return chr(reply.result_int) if reply.result_int > 0 else None

    async def say_all(self, prompts: tuple[Say, ...]) -> None:
        for say in prompts:
            await self.play(say)

    async def gather(self, gather: Gather) -> Event:
        digits = ""
        for say in gather.prompts:
            key = await self.play(say, ALL_KEYS)
            if key:
                digits = key
                break
        while True:
            if gather.finish_on_key and digits.endswith(gather.finish_on_key):
                digits = digits[: -len(gather.finish_on_key)]
                break
            if gather.num_digits and len(digits) >= gather.num_digits:
                break
            key = await self.next_key(gather.timeout_seconds)
            if key is None:
                break
            digits += key
        return DigitsEntered(digits) if digits else NoInput()

    async def next_key(self, timeout_seconds: float) -> str | None:
        reply = await self.session.command("WAIT FOR DIGIT", str(int(timeout_seconds * 1000)))
        return chr(reply.result_int) if reply.code == 200 and reply.result_int > 0 else None

    async def answer(self) -> None:
        await self.session.command("ANSWER")

    async def music(self, on: bool, music_class: str = "default") -> None:
        if on:
            await self.session.command("SET MUSIC ON", quote(music_class))
        else:
            await self.session.command("SET MUSIC OFF")

    async def join_room(self, call_id: str, bridging: Bridging, as_agent: bool) -> None:
        """Enter the call's ConfBridge room; returns when this party has left it."""
        profile = bridging.agent_profile if as_agent else bridging.caller_profile
        await self.session.command(
            "EXEC", "ConfBridge", quote(f"{room_name(call_id)},{bridging.bridge_profile},{profile}"))

    async def hang_up(self) -> None:
        await self.session.command("HANGUP")
