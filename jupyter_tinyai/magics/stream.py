"""Run one answer in a worker thread and pump it into a view from the cell's thread.

The worker iterates ``client.chat``; the cell's thread (or coroutine, in a kernel) keeps
the display up to date, so Ctrl-C / the kernel's interrupt and the Stop button are
handled while the model generates. Stopping sets the cancel event and calls
``client.cancel()``: the engine ends the answer within one token and keeps the partial text.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from dataclasses import dataclass, field

from ..errors import GenerationError, TinyAIError

UPDATE_EVERY_S = 0.08  # display updates at most this often (coalescing tokens)
PROGRESS_AFTER_S = 1.0  # a model load that takes longer than this shows a progress bar
DRAIN_TIMEOUT_S = 30.0  # after a stop, how long to wait for the engine to end the answer


@dataclass
class Outcome:
    text: str = ""
    stats: object = None
    notice: str | None = None
    error: TinyAIError | None = None
    stopped: bool = False  # by the Stop button or an interrupt
    interrupted: bool = False  # by Ctrl-C / the kernel's interrupt
    parts: list = field(default_factory=list)
    reasoning: list = field(default_factory=list)  # the model's thinking before the answer (shown folded)


class Generation:
    """One answer being generated in a worker thread."""

    def __init__(self, client, prompt: str, view, on_start=None, **kwargs):
        self.client = client
        self.on_start = on_start
        self.prompt = prompt
        self.view = view
        self.kwargs = kwargs
        self.cancel_event = threading.Event()
        self.events: queue.Queue = queue.Queue()
        self.outcome = Outcome()
        self.done = False
        self._loading_since: float | None = None
        self._progress = (0.0, "")
        self._last_render = 0.0
        self._dirty = False
        self._thread = threading.Thread(target=self._run, name="tinyai-generation", daemon=True)

    # -- worker thread ------------------------------------------------------------------

    def _chunks(self):
        """The answer's chunks (``client.chat``; an edit's generation asks ``client.edit``)."""
        return self.client.chat(self.prompt, cancel=self.cancel_event, progress=self._on_progress, **self.kwargs)

    def _run(self) -> None:
        try:
            for chunk in self._chunks():
                self.events.put(("chunk", chunk))
        except TinyAIError as error:
            self.events.put(("error", error))
        except Exception as error:  # a bug or a crash below us: still one clear message
            self.events.put(("error", GenerationError(f"generation failed: {type(error).__name__}: {error}")))
        finally:
            self.events.put(("done", None))

    def _on_progress(self, fraction: float, message: str) -> None:
        self.events.put(("progress", (fraction, message)))

    # -- cell thread ----------------------------------------------------------------------

    def start(self) -> Generation:
        self.view.start()
        if self.on_start is not None:
            self.on_start(self)
        self._thread.start()
        return self

    def stop(self, interrupted: bool = False) -> None:
        """End the answer (from any thread): the partial text is kept."""
        self.outcome.stopped = True
        self.outcome.interrupted = self.outcome.interrupted or interrupted
        self.cancel_event.set()
        try:
            self.client.cancel()
        except Exception:  # nothing running any more, or the host is gone
            pass

    def _handle(self, kind: str, value) -> None:
        out = self.outcome
        if kind == "chunk":
            if self._loading_since is not None:
                self._loading_since = None
                self.view.end_progress()
            if value.queued is not None:  # shown while it waits, not kept with the answer
                self.view.notice = value.notice
                self._dirty = True
            elif value.notice:
                out.notice = value.notice
                self.view.notice = value.notice
            if value.model is not None and self.view.notice != out.notice:  # its turn came: no more waiting
                self.view.notice = out.notice
                self._dirty = True
            if value.reasoning:
                out.reasoning.append(value.reasoning)
                self.view.reasoning = "".join(out.reasoning)
                self._dirty = True
            if value.text:
                out.parts.append(value.text)
                self._dirty = True
            if value.stats is not None:
                out.stats = value.stats
        elif kind == "progress":
            self._progress = value
            fraction = value[0]
            if fraction < 1.0 and self._loading_since is None:
                self._loading_since = time.monotonic()
            elif fraction >= 1.0:
                self._loading_since = None
                self.view.end_progress()
        elif kind == "error":
            out.error = value
        elif kind == "done":
            self.done = True

    def pump(self, wait: float) -> None:
        """Handle what the worker sent (waiting up to ``wait`` s for it) and refresh the view."""
        try:
            kind, value = self.events.get(timeout=wait) if wait > 0 else self.events.get_nowait()
            self._handle(kind, value)
            while True:
                kind, value = self.events.get_nowait()
                self._handle(kind, value)
        except queue.Empty:
            pass
        now = time.monotonic()
        if self._loading_since is not None and now - self._loading_since > PROGRESS_AFTER_S:
            self.view.progress(*self._progress)
        if self._dirty and (now - self._last_render >= UPDATE_EVERY_S or self.done):
            self.view.update("".join(self.outcome.parts))
            self._last_render = now
            self._dirty = False

    def _drain(self) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while not self.done and time.monotonic() < deadline:
            self.pump(0.05)

    def run(self) -> Outcome:
        """Pump until the answer ends; Ctrl-C stops it and keeps the partial text."""
        self.start()
        try:
            while not self.done:
                self.pump(UPDATE_EVERY_S)
        except KeyboardInterrupt:
            self.stop(interrupted=True)
            self._drain()
        return self._result()

    async def run_async(self) -> Outcome:
        """Like :meth:`run`, yielding to the kernel's event loop so widget clicks are handled."""
        self.start()
        try:
            while not self.done:
                self.pump(0)
                await asyncio.sleep(0.03)
        except (asyncio.CancelledError, KeyboardInterrupt):  # the kernel's interrupt
            self.stop(interrupted=True)
            self._drain()
        return self._result()

    def _result(self) -> Outcome:
        out = self.outcome
        out.text = "".join(out.parts)
        self.view.notice = out.notice  # stopped while it waited: the queue's notice goes
        if out.stats is not None and out.stats.finish_reason == "cancelled":
            out.stopped = True
        return out
