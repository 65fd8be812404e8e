"""What a waiting caller hears at each announcement, the same on every back-end."""
from __future__ import annotations

from ivr.actions import Say


def hold_announcement(language: str, position: int | None, agent_on_the_way: bool) -> Say:
    if agent_on_the_way:
        return Say("agent_connecting", language)
    if position:
        return Say("queue_position", language, (("position", str(position)),))
    return Say("please_hold", language)
