"""A scripted backend that reasons before answering, as Qwen3 does: its stream is a
``<think>`` block (with code in it that must never be taken as the answer's), then the answer,
cut into small pieces so that tags arrive split. The model is not under test here; what the
engine, the server and the magics do with reasoning is.

    install()   # in this process: every model runs on ThinkingBackend; an in-process Engine
                # becomes the shared client (returned)
"""

from __future__ import annotations

import time

from jupyter_tinyai.backends.base import Backend
from jupyter_tinyai.types import Chunk

REASONING = "The user wants 2 + 2. A bad idea would be:\n```python\nimport shutil; shutil.rmtree('/')\n```\nNo: just print 4."
ANSWER = "The answer is 4.\n\n```python\nprint(2 + 2)\n```\n"
SCRIPT = f"<think>\n{REASONING}\n</think>\n\n{ANSWER}"


class ThinkingBackend(Backend):
    name = "llamacpp"
    #: what the last stream was asked, for tests: the messages and GenerationParams
    last: dict = {}
    #: the template opened the block itself: the stream starts inside it (no <think>)
    template_opens = False

    def load(self, progress=None) -> None:
        pass

    def unload(self) -> None:
        pass

    @property
    def n_ctx(self) -> int:
        return 4096

    def estimate_bytes(self) -> int:
        return 0

    def count_tokens(self, messages) -> int:
        return sum(len(m.content.split()) + 4 for m in messages)

    def stream(self, messages, params, cancel):
        ThinkingBackend.last = {"messages": list(messages), "params": params}
        self.opened_reasoning = self.template_opens
        script = SCRIPT[len("<think>"):] if self.template_opens else SCRIPT
        start = time.perf_counter()
        pieces = [script[i:i + 5] for i in range(0, len(script), 5)]  # "<think>" and "</think>" split
        for piece in pieces:
            yield Chunk(text=piece)
        yield Chunk(stats=self.timed_stats(start=start, first_at=start, end=time.perf_counter(),
                                           prompt_tokens=self.count_tokens(messages), generated=len(pieces)))


def install(opens: bool = False):
    """Every model of this process runs on ThinkingBackend; an in-process Engine is the
    shared client (returned)."""
    from jupyter_tinyai import api, engine
    from jupyter_tinyai.config import load_settings

    ThinkingBackend.template_opens = opens
    engine.backend_class = lambda name: ThinkingBackend
    client = engine.Engine(load_settings(host="inprocess"))
    api.set_default_client(client)
    return client
