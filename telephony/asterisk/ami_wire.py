"""The Asterisk Manager Interface wire format: bytes in, one dict per message out.

AMI sends `Key: Value` lines ended by CRLF, one blank line after each message, and a
single banner line (`Asterisk Call Manager/11.0.0`) when the connection opens. Headers
can repeat (`ChanVariable:`), which becomes a list. Asterisk 11 answered `Command` with
`Response: Follows`, free text and `--END COMMAND--`; that body is kept under "Output".

Why not panoramisk's own parser: it builds a case-insensitive dict per message and
silently drops what it cannot read. This one keeps plain dicts (a header lookup is one
dict access; at tens of thousands of events a second that matters), accepts LF-only
captures too, and reports every malformed frame to a callback so the driver can log it
and go on.
"""
from __future__ import annotations

import codecs
from typing import Callable

BANNER_PREFIX = "Asterisk Call Manager/"
MAX_FRAME_BYTES = 1 << 20  # a "message" this long without a blank line is not AMI
_FOLLOWS_END = "--END COMMAND--"

Message = dict  # header name (as sent) -> str, or list[str] for a repeated header


class MalformedFrame(ValueError):
    """One frame that is not an AMI message; `frame` holds its text for the log."""

    def __init__(self, reason: str, frame: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.frame = frame


def parse_frame(text: str) -> Message:
    """One message's text (without the blank line) -> headers; raises MalformedFrame."""
    lines = text.split("\n")
    if lines[0].startswith("Response: Follows"):
        return _parse_follows(lines, text)
    try:  # the usual message: every line "Key: Value", no header twice
        headers = dict([line.split(": ", 1) for line in lines])
    except ValueError:
        headers = None
    if headers is not None and len(headers) == len(lines):
        if "Event" not in headers and "Response" not in headers:
            raise MalformedFrame("neither an Event nor a Response", text)
        return headers
    return _parse_lines(lines, text)


def _parse_lines(lines: list[str], text: str) -> Message:
    """Line by line: repeated headers, "Key:" without a space, and the exact fault."""
    headers: Message = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key:
            raise MalformedFrame(f"line without 'Key: Value': {line[:80]!r}", text)
        if value.startswith(" "):
            value = value[1:]
        if key in headers:
            if key in ("Event", "Response"):  # two messages run together: neither can be trusted
                raise MalformedFrame(f"a second {key} header inside one message", text)
            previous = headers[key]
            if isinstance(previous, list):
                previous.append(value)
            else:
                headers[key] = [previous, value]
        else:
            headers[key] = value
    if "Event" not in headers and "Response" not in headers:
        raise MalformedFrame("neither an Event nor a Response", text)
    return headers


def _parse_follows(lines: list[str], text: str) -> Message:
    headers: Message = {}
    body: list[str] = []
    for line in lines:
        key, sep, value = line.partition(": ")
        if sep and not body and " " not in key:
            headers[key] = value
        elif line.strip() != _FOLLOWS_END:
            body.append(line)
    headers["Output"] = body
    return headers


class AmiFrameParser:
    """Incremental parser: `feed(bytes)` returns the complete messages received so far.

    A malformed frame is handed to `on_malformed` and skipped; the stream goes on.
    """

    def __init__(self, on_malformed: Callable[[MalformedFrame], None] | None = None, encoding: str = "utf-8") -> None:
        self.banner: str | None = None
        self._pending = ""
        self._on_malformed = on_malformed or (lambda error: None)
        # A read can end inside a multi-byte character (Korean caller names) or between CR and LF.
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")

    def feed(self, data: bytes) -> list[Message]:
        text = (self._pending + self._decoder.decode(data)).replace("\r\n", "\n")
        if self.banner is None:
            text = self._take_banner(text)
            if self.banner is None:
                self._pending = text
                return []
        messages: list[Message] = []
        start, size = 0, len(text)
        while True:
            while start < size and text[start] == "\n":  # stray blank lines between messages
                start += 1
            if text.startswith("Response: Follows", start):
                body_end = text.find(_FOLLOWS_END, start)
                end = text.find("\n\n", body_end) if body_end >= 0 else -1
            else:
                end = text.find("\n\n", start)
            if end < 0:
                break
            frame, start = text[start:end], end + 2
            try:
                messages.append(parse_frame(frame))
            except MalformedFrame as error:
                self._on_malformed(error)
        self._pending = text[start:]
        if len(self._pending) > MAX_FRAME_BYTES:
            self._on_malformed(MalformedFrame("frame longer than 1 MiB without an end", self._pending[:200]))
            self._pending = ""
        return messages

    def _take_banner(self, text: str) -> str:
        line_end = text.find("\n")
        if line_end < 0:
            if len(text) > 200:  # no banner at all: treat the stream as messages
                self.banner = ""
            return text
        first = text[:line_end]
        if first.startswith(BANNER_PREFIX):
            self.banner = first[len(BANNER_PREFIX):].strip()
            return text[line_end + 1:]
        self.banner = ""
        return text
