"""Twilio Voice access tokens for the desk's softphone.

The agent's browser runs the Twilio Voice JavaScript SDK as the agent's `client:` identity,
the endpoint OneCall rings. Its token is a JWT signed with one of the account's API keys,
holding a Voice grant: incoming calls allowed, outgoing calls through the configured TwiML
app. Each token is for one agent and expires after `ttl` seconds; the SDK asks for a new one
before then.
"""
from __future__ import annotations

import time
from typing import Callable

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from hotline.errors import SoftphoneUnavailable

CLIENT_PREFIX = "client:"
TOKEN_TTL_SECONDS = 3600


class VoiceTokens:
    def __init__(self, *, account_sid: str, api_key: str, api_secret: str, twiml_app_sid: str,
                 ttl: int = TOKEN_TTL_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self._account_sid = account_sid
        self._api_key = api_key
        self._api_secret = api_secret
        self._twiml_app_sid = twiml_app_sid
        self._ttl = ttl
        self._clock = clock

    def for_endpoint(self, endpoint: str) -> dict:
        """A token for the agent whose Twilio endpoint is `endpoint` (a `client:` identity)."""
        if not endpoint.startswith(CLIENT_PREFIX):
            raise SoftphoneUnavailable("이 상담원의 전화는 소프트폰이 아닙니다 / this agent is rung on a phone "
                                       "number, not on the desk's softphone")
        identity = endpoint[len(CLIENT_PREFIX):]
        now = int(self._clock())
        token = AccessToken(self._account_sid, self._api_key, self._api_secret, identity=identity,
                            nbf=now, valid_until=now + self._ttl, ttl=self._ttl)
        token.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=self._twiml_app_sid))
        return {"token": token.to_jwt(), "identity": identity, "expires_at": now + self._ttl}
