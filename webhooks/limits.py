"""How large a request body each family of routes accepts.

A larger body is answered 413 (`request-too-large`, with the limit) before anything reads
it, so it is never half-parsed, never checked against a signature and changes nothing.
"""
from __future__ import annotations

import io

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


def refuse_large_bodies(request) -> None:
    """413 when the body is over its limit (the web tier's answer names the limit)."""
    limit = request.max_content_length
    if request.content_length is None and request.environ.get("wsgi.input_terminated"):
        _measure_unsized_body(request.environ, limit)
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _measure_unsized_body(environ: dict, limit: int) -> None:
    """A body sent without a length (chunked) is read here, one byte past the limit: werkzeug
    would silently cut it at the limit, and a cut import or form must not be taken whole."""
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
