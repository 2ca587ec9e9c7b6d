"""One request at a time, in arrival order, each waiting request told its place: the queue
of the host (every client's requests) and of an in-process engine (its threads').

A waiting request hears how many requests are ahead of it when it joins, and again at each
of the last :data:`QUEUE_UPDATES` places: linear in the number of requests, however long
the queue. A stream shows the place as a chunk (:func:`queued_chunk`), which the sidebar's
WebSocket forwards as a ``queued`` message and the CLI and the magics show as a notice.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .types import Chunk

#: a waiter is told its place when it joins and again at each of the last this many places
QUEUE_UPDATES = 3


class Cancelled(Exception):
    """The request was cancelled (or its client left) while it waited for its turn."""


class Request:
    """A request in a queue: its id and the event that cancels it."""

    def __init__(self, rid: str, kind: str, cancel: threading.Event | None = None):
        self.id = rid
        self.kind = kind
        self.cancel = cancel or threading.Event()
        self.arrived = time.monotonic()
        self.told: int | None = None  # the place it was last told
        self.places: list[int] = []  # places to tell it


def queue_notice(ahead: int) -> str:
    return f"waiting for {ahead} earlier request{'s' if ahead > 1 else ''} in the model's queue"


def queued_chunk(ahead: int) -> Chunk:
    """What a stream says while its request waits with ``ahead`` requests before it."""
    return Chunk(notice=queue_notice(ahead), queued=ahead)


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

    def wait(self, req: Request) -> Iterator[int]:
        """Join the queue and wait for ``req``'s turn, yielding the number of requests ahead
        when that is worth telling (see the module's docstring), every such place in order.
        When the generator ends the turn is ``req``'s: the caller then calls :meth:`done`.
        Raises :class:`Cancelled` if ``req.cancel`` is set first; closing the generator
        leaves the queue."""
        with self._cond:
            self._queue.append(req)
            self.last_activity = time.monotonic()
            self._tell_places()
        try:
            while True:
                with self._cond:
                    places, req.places = req.places, []
                    mine = self._queue[0] is req
                    if mine:
                        self.running = req
                    elif req.cancel.is_set():
                        raise Cancelled()
                    elif not places:
                        self._cond.wait(0.05)
                        continue
                yield from places  # outside the lock
                if mine:
                    return
        except BaseException:  # Cancelled, or the waiter went away (GeneratorExit)
            self._leave(req)
            raise

    def _tell_places(self) -> None:
        """(Under the lock, whenever the queue changes.) Give each waiter its place when it
        has none yet, and again when it changes among the last QUEUE_UPDATES places."""
        for ahead, req in enumerate(self._queue):
            if ahead and (req.told is None or (ahead != req.told and ahead <= QUEUE_UPDATES)):
                req.told = ahead
                req.places.append(ahead)

    def _leave(self, req: Request) -> None:
        with self._cond:
            self._queue.remove(req)
            if self.running is req:
                self.running = None
            self._tell_places()
            self._cond.notify_all()

    def done(self, req: Request) -> None:
        """End ``req``'s turn: the next request's begins."""
        with self._cond:
            self.last_activity = time.monotonic()
        self._leave(req)

    @contextmanager
    def turn(self, req: Request, on_position: Callable[[int], None] = lambda n: None):
        """Wait for ``req``'s turn (calling ``on_position(ahead)`` as :meth:`wait` yields),
        then run the body. Raises :class:`Cancelled` if ``req.cancel`` is set first."""
        waiting = self.wait(req)
        try:
            for ahead in waiting:
                on_position(ahead)
        finally:
            waiting.close()  # leaves the queue when on_position failed
        try:
            yield
        finally:
            self.done(req)

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
            self._leave(req)  # housekeeping is no activity: the idle timers go on

    def touch(self) -> None:
        with self._cond:
            self.last_activity = time.monotonic()

    def idle_seconds(self) -> float:
        with self._cond:
            if self._queue:
                return 0.0
            return time.monotonic() - self.last_activity
