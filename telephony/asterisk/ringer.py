"""Ringing an agent for an Asterisk call, from any OneCall process."""
from __future__ import annotations

from typing import Callable

from hotline.errors import TelephonyUnavailable
from telephony.asterisk.channels import AsteriskState


class AsteriskRinger:
    """Rings an agent for an Asterisk call from any process: the AMI owner places the call.

    `ring` returns the leg's Uniqueid (OneCall picks it) at once; whether the phone was
    answered arrives later, through the agent's FastAGI session or an OriginateResponse.
    Rings go to the AMI owner through Redis, or straight to it when it runs in this process
    (`hand_over_to`).
    """

    def __init__(self, state: AsteriskState, devices: dict[str, str]) -> None:
        self._state = state
        self._devices = dict(devices)  # agent id -> asterisk_device
        self._owner_here: Callable[[dict], None] | None = None

    def hand_over_to(self, owner: Callable[[dict], None] | None) -> None:
        """The AMI owner of this process takes requests directly (thread-safe); None: via Redis."""
        self._owner_here = owner

    @property
    def owner_in_this_process(self) -> bool:
        return self._owner_here is not None

    def ring(self, call_id: str, agent_id: str, endpoint: str) -> str:
        device = self._devices.get(agent_id)
        if device is None:
            raise TelephonyUnavailable(f"agent {agent_id} has no asterisk_device to ring")
        return self._state.ring(call_id, agent_id, device, self._owner_here)

    def cancel(self, leg_id: str) -> None:
        """A leg still ringing is hung up like an answered one: AMI's Hangup takes the
        Uniqueid OneCall gave it (its ChannelId) as well as a channel name."""
        self.hang_up(leg_id)

    def hang_up(self, leg_id: str) -> None:
        if self._owner_here is not None:
            self._owner_here({"op": "hangup", "leg": leg_id})
        else:
            self._state.request("hangup", leg=leg_id)
