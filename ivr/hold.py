"""What a waiting caller hears at each announcement, the same on every back-end."""
from __future__ import annotations

from ivr.actions import Say

# Prompts the drivers speak outside any flow (holding, connecting, the agent's whisper). The
# catalog must have each in every language of the hotline, with these placeholders.
DRIVER_PROMPTS = {
    "queue_position": {"position"},
    "please_hold": set(),
    "agent_connecting": set(),
    "agent_whisper": set(),
    "call_already_taken": set(),
    "system_error": set(),
}


def hold_announcement(language: str, position: int | None, agent_on_the_way: bool) -> Say:
    if agent_on_the_way:
        return Say("agent_connecting", language)
    if position:
        return Say("queue_position", language, (("position", str(position)),))
    return Say("please_hold", language)
