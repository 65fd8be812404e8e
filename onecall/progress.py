"""A text progress bar for long CLI commands, with no dependency.

On a terminal it redraws one line with carriage returns; into a file or a CI log, where
carriage returns pile up unreadably, it writes one line per step instead.
"""
from __future__ import annotations

from typing import TextIO

BAR_WIDTH = 30


class ProgressBar:
    def __init__(self, stream: TextIO, width: int = BAR_WIDTH) -> None:
        self._stream = stream
        self._width = width
        self._redraw = stream.isatty()
        self._drawn = 0  # length of the line on screen, to blank what a shorter one leaves

    def update(self, done: int, total: int, what: str) -> None:
        if not self._redraw:
            self._stream.write(f"[{done}/{total}] {what}\n")
            self._stream.flush()
            return
        filled = self._width * done // total if total else self._width
        line = f"[{'#' * filled}{'.' * (self._width - filled)}] {done}/{total} {what}"
        self._stream.write("\r" + line.ljust(self._drawn))
        self._stream.flush()
        self._drawn = len(line)

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = 0

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
