"""A cell that is only ``%%ask`` (or ``%explain``) ends with the answer as its only output.

While an answer streams, the cell shows more than the answer: the Stop button and, when the
model takes a while to load, a progress bar. An output cannot be removed, only replaced, so
taking them away would leave empty outputs in the saved notebook. Instead, when the whole cell
is the magic (the async path) and nothing else was printed in it, the cell's outputs are
cleared and the answer shown again, alone. Anything printed (a warning, a library's output)
keeps every output where it is.
"""

from __future__ import annotations

import sys


class OutputWatch:
    """Notes whether the cell printed anything while open: a write to stdout or stderr, from
    any thread (ipykernel's streams also carry what C libraries write to the file descriptors)."""

    def __init__(self):
        self.printed = False
        self._streams = [s for s in (sys.stdout, sys.stderr) if type(s).__name__ == "OutStream"]
        self._writes: list = []

    def __enter__(self) -> OutputWatch:
        if len(self._streams) < 2:  # not ipykernel's streams: cannot tell, so keep every output
            self.printed = True
            self._streams = []
        for stream in self._streams:
            write = stream.write  # IPython wraps it too while a cell runs
            self._writes.append(write)
            stream.write = self._noting(write)
        return self

    def _noting(self, write):
        def noted(text, *args, **kwargs):
            self.printed = self.printed or bool(text)
            return write(text, *args, **kwargs)

        return noted

    def __exit__(self, *exc) -> None:
        for stream, write in zip(self._streams, self._writes):
            stream.write = write
