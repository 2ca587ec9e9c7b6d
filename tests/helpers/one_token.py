"""The real Engine (its queue, conversations and budgeting) over a backend that answers
"ok": for tests of what surrounds the model, when the model is not what is under test."""

from __future__ import annotations

import threading

from jupyter_tinyai.backends.base import Backend, LoadSettings
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.models import ModelSpec
from jupyter_tinyai.types import Chunk, Stats


class OneTokenBackend(Backend):
    name = "fake"

    def __init__(self, gate: threading.Event):
        super().__init__(ModelSpec(id="fake:one", name="one", backend="fake", format="gguf"), LoadSettings())
        self.gate = gate

    def load(self, progress=None):
        pass

    def unload(self):
        pass

    @property
    def n_ctx(self) -> int:
        return 4096

    def count_tokens(self, messages) -> int:
        return sum(len(m.content.split()) + 4 for m in messages)

    def stream(self, messages, params, cancel):
        while not self.gate.wait(0.01):  # holds the answer until the test opens the gate
            if cancel.is_set():
                yield Chunk(stats=Stats(model=self.spec.id, backend=self.name, finish_reason="cancelled"))
                return
        yield Chunk(text="ok", stats=Stats(model=self.spec.id, backend=self.name, generated_tokens=1))


class OneTokenEngine(Engine):
    """Answers every prompt with "ok"; ``gate`` holds each answer until it is set."""

    def __init__(self):
        super().__init__(load_settings(host="inprocess"))
        self.gate = threading.Event()
        self.backend = OneTokenBackend(self.gate)

    def _backend_for(self, model, progress):
        return self.backend
