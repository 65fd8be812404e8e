"""Twilio driver, outbound side: ring a reserved agent through Twilio's REST API.

The agent's leg is a new outbound call to their endpoint (`client:<identity>` or a
number), named by OneCall before it is placed (`telephony.twilio.legs`). When they
answer, Twilio fetches the answer URL, whose TwiML joins them to the caller's
conference; the status callback reports no-answer/busy/failed so the call can go back
to the head of its queue at once instead of waiting for the reservation timeout. A leg
still ringing when the citizen leaves is cancelled (`cancel`).

`api_base_url` points the official client at another host (a local fake in tests).
"""
from __future__ import annotations

import logging
from typing import Callable

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from hotline.errors import TelephonyUnavailable
from telephony.twilio.legs import TwilioLegs
from telephony.twilio.statuses import GONE
from telephony.twilio.urls import AgentLegUrls


class TwilioRinger:
    def __init__(self, account_sid: str, auth_token: str, caller_id: str, ring_timeout: int,
                 urls_for: Callable[[str, str, str], AgentLegUrls], legs: TwilioLegs,
                 api_base_url: str | None = None) -> None:
        # twilio's client logs every request's URL and headers at INFO: one ring, a dozen lines
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
        self._client = Client(account_sid, auth_token)
        if api_base_url:
            self._client.api.base_url = api_base_url.rstrip("/")
        self._caller_id = caller_id
        self._ring_timeout = ring_timeout
        self._urls_for = urls_for
        self._legs = legs

    def ring(self, call_id: str, agent_id: str, endpoint: str) -> str:
        """Place the agent's leg; returns its CallSid."""
        urls = self._urls_for(call_id, agent_id, self._legs.name_next(call_id))
        try:
            leg = self._client.calls.create(
                to=endpoint,
                from_=self._caller_id,
                url=urls.answer,
                method="POST",
                status_callback=urls.status,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=self._ring_timeout,
            )
        except (TwilioException, OSError) as exc:
            raise TelephonyUnavailable(f"Twilio could not ring {endpoint}: {exc}") from exc
        return leg.sid

    def status(self, call_sid: str) -> str | None:
        """Twilio's CallStatus of any call of the account; GONE when Twilio has no such
        call; None when Twilio could not be asked."""
        try:
            return self._client.calls(call_sid).fetch().status
        except TwilioRestException as exc:
            return GONE if exc.status == 404 else None
        except (TwilioException, OSError):
            return None

    def hang_up(self, leg_id: str) -> None:
        """End one answered leg (used when the agent closes the call from the desktop)."""
        self._update(leg_id, "completed")

    def cancel(self, leg_id: str) -> None:
        """Stop a leg still ringing (the citizen left): Twilio's `canceled` ends a queued or
        ringing call and leaves an answered one alone."""
        self._update(leg_id, "canceled")

    def _update(self, leg_id: str, status: str) -> None:
        try:
            self._client.calls(leg_id).update(status=status)
        except (TwilioException, OSError) as exc:
            raise TelephonyUnavailable(f"Twilio could not set call {leg_id} {status}: {exc}") from exc
