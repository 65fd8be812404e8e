"""The CLI progress bar: redrawn in place on a terminal, one line per step elsewhere."""
from __future__ import annotations

import io

from onecall.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_one_line_is_redrawn():
    screen = Terminal()
    with ProgressBar(screen, width=10) as bar:
        bar.update(1, 4, "rendered en/a-long-name.wav")
        bar.update(4, 4, "rendered en/b.wav")
    frames = screen.getvalue().split("\r")[1:]
    assert frames[0] == "[##........] 1/4 rendered en/a-long-name.wav"
    assert frames[1].startswith("[##########] 4/4 rendered en/b.wav")
    assert len(frames[1]) == len(frames[0]) + 1  # padded over the longer line, then the final newline
    assert frames[1].endswith("\n") and screen.getvalue().count("\n") == 1


def test_in_a_log_each_step_is_a_line():
    log = io.StringIO()
    with ProgressBar(log) as bar:
        bar.update(1, 2, "unchanged ko/a.wav")
        bar.update(2, 2, "rendered ko/b.wav")
    assert log.getvalue() == "[1/2] unchanged ko/a.wav\n[2/2] rendered ko/b.wav\n"
