"""How large a request body each family of routes accepts.

A larger body is answered 413 (`request-too-large`, with the limit) before anything reads
it, so it is never half-parsed, never checked against a signature and changes nothing.
"""
from __future__ import annotations

from werkzeug.exceptions import RequestEntityTooLarge

from telephony.twilio import urls

TWILIO_LIMIT = 64 * 1024  # Twilio's webhooks are a few hundred bytes, a few KiB with speech
CITIZEN_IMPORT_LIMIT = 16 * 1024 * 1024  # bulk imports; larger files: `onecall citizens import`
DEFAULT_LIMIT = 1024 * 1024  # the desk's and the API's JSON bodies
CITIZEN_IMPORT_PATH = "/api/citizens"


def body_limit(path: str) -> int:
    """The largest body, in bytes, accepted at `path`."""
    if path == urls.PREFIX or path.startswith(urls.PREFIX + "/"):
        return TWILIO_LIMIT
    if path == CITIZEN_IMPORT_PATH:
        return CITIZEN_IMPORT_LIMIT
    return DEFAULT_LIMIT


class BodyTooLarge(RequestEntityTooLarge):
    """A body over its route's limit; `limit` is in bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes, the limit of this address")
        self.limit = limit


def refuse_large_bodies(request) -> None:
    """Raise BodyTooLarge when the declared length is over the limit (a chunked body is cut
    at the limit by werkzeug's own stream, which raises the same 413)."""
    limit = request.max_content_length
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit)
