"""Progress in a terminal: one line rewritten in place, for every front end that prints
(a model loading for ``jupyter tinyai ask`` and ``%tinyai use``, an answer's model load in
the IPython terminal, ``jupyter tinyai pull``).

    line = ProgressLine(sys.stderr)
    line(0.4, "loading model")   # "loading model  40%" on one line, rewritten in place
    line(1.0, "loaded model")    # the last one ends the line
"""

from __future__ import annotations

import sys
import time


class ProgressLine:
    """A progress line on ``stream`` (``sys.stderr`` by default), shown only once the work
    has lasted ``delay`` seconds, rewritten at most every ``every`` seconds; a fraction of 1
    ends it. :meth:`end` ends a line left unfinished (an interrupted pull, an answer that
    starts)."""

    def __init__(self, stream=None, delay: float = 1.0, every: float = 0.1):
        self.stream = stream or sys.stderr
        self.delay, self.every = delay, every
        self.start = time.monotonic()
        self.shown = False  # a line was written
        self.width = 0  # length of the unfinished line on screen (0: none)
        self._written = float("-inf")

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction >= 1.0:
            if not self.shown:  # quick work: nothing to say
                return
        elif now - self.start < self.delay or now - self._written < self.every:
            return
        self.shown, self._written = True, now
        line = f"{message} {fraction * 100:3.0f}%"
        end = "\n" if fraction >= 1.0 else "\r"
        self.stream.write(line.ljust(self.width) + end)  # cover the longer line before it
        self.width = 0 if fraction >= 1.0 else len(line)
        self.stream.flush()

    def end(self) -> None:
        """Leave an unfinished line as it is and go to the next one."""
        if self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0
