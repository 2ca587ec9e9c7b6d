"""One request at a time, in arrival order, with each waiting request told its position."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager


class Cancelled(Exception):
    """The request was cancelled (or its client left) while it waited for its turn."""


class Request:
    """A request known to the host: its id and the event that cancels it."""

    def __init__(self, rid: str, kind: str):
        self.id = rid
        self.kind = kind
        self.cancel = threading.Event()
        self.arrived = time.monotonic()


class Scheduler:
    def __init__(self):
        self._cond = threading.Condition()
        self._queue: deque[Request] = deque()
        self.last_activity = time.monotonic()
        self.running: Request | None = None

    def waiting(self) -> int:
        with self._cond:
            return max(0, len(self._queue) - (1 if self.running else 0))

    def idle(self) -> bool:
        with self._cond:
            return not self._queue

    @contextmanager
    def turn(self, req: Request, on_position: Callable[[int], None] = lambda n: None):
        """Wait until every request that arrived before ``req`` is done, then run it.

        ``on_position(n)`` is called (outside any lock) whenever the number of requests
        ahead changes while waiting. Raises :class:`Cancelled` if ``req.cancel`` is set first.
        """
        with self._cond:
            self._queue.append(req)
            self.last_activity = time.monotonic()
        try:
            reported = None
            while True:
                with self._cond:
                    if self._queue[0] is req:
                        self.running = req
                        break
                    if req.cancel.is_set():
                        raise Cancelled()
                    ahead = self._queue.index(req)
                    if ahead == reported:
                        self._cond.wait(0.05)
                        continue
                reported = ahead
                on_position(ahead)
        except BaseException:
            with self._cond:
                self._queue.remove(req)
                self._cond.notify_all()
            raise
        try:
            yield
        finally:
            with self._cond:
                self._queue.remove(req)
                self.running = None
                self.last_activity = time.monotonic()
                self._cond.notify_all()

    @contextmanager
    def try_turn(self):
        """A turn only if nothing is queued (for housekeeping); yields False otherwise."""
        req = Request("housekeeping", "housekeeping")
        with self._cond:
            busy = bool(self._queue)
            if not busy:
                self._queue.append(req)
                self.running = req
        if busy:
            yield False
            return
        try:
            yield True
        finally:
            with self._cond:
                self._queue.remove(req)
                self.running = None
                self._cond.notify_all()

    def touch(self) -> None:
        with self._cond:
            self.last_activity = time.monotonic()

    def idle_seconds(self) -> float:
        with self._cond:
            if self._queue:
                return 0.0
            return time.monotonic() - self.last_activity
