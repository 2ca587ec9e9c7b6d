"""Background watchers: a daemon thread that checks something every few milliseconds until
it is told to stop — the host's timers, a connection's disconnect watcher, a client's
cancel forwarding, a remote request's deadline.

    every(0.5, tick, until=stop)                 # tick() until stop is set or tick() returns True
    when(cancel, tell_host, unless=done)          # tell_host() once cancel is set, unless done is first
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def every(seconds: float, check: Callable[[], object], *, until: threading.Event, name: str) -> threading.Thread:
    """Call ``check()`` every ``seconds`` in a daemon thread until ``until`` is set or
    ``check()`` returns a true value (it is done)."""

    def run() -> None:
        while not until.wait(seconds):
            if check():
                return

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def when(event: threading.Event, action: Callable[[], object], *, unless: threading.Event, name: str,
         poll: float = 0.02) -> threading.Thread:
    """Call ``action()`` once, in a daemon thread, as soon as ``event`` is set (within
    ``poll`` seconds) — unless ``unless`` is set first."""

    def check() -> bool:
        if not event.is_set():
            return False
        if not unless.is_set():
            action()
        return True

    return every(poll, check, until=unless, name=name)
