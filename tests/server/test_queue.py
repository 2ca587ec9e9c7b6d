"""The sidebar's queue: a burst of N requests costs O(N) `queued` frames, not O(N²).

The model is not under test here: a small client stands in for it (one token per answer),
so hundreds of requests go through the real ChatService and history store in a second.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from jupyter_tinyai.models import ModelSpec
from jupyter_tinyai.server.chat import QUEUE_UPDATES, ChatService, chat_request
from jupyter_tinyai.server.history import HistoryStore
from jupyter_tinyai.types import Chunk, Stats


class OneTokenClient:
    """Answers every prompt with one token; ``gate`` holds the first answer until set."""

    def __init__(self):
        self.gate = threading.Event()
        self.spec = ModelSpec(id="fake:one", name="one", backend="fake", format="gguf")

    def history(self, conversation="default"):
        return []

    def set_history(self, conversation, messages):
        pass

    def status(self):
        return {"model": self.spec.to_dict()}

    def load(self, model=None, progress=None):
        return self.spec

    def chat(self, prompt, **kwargs):
        self.gate.wait(60)
        yield Chunk(text="ok")
        yield Chunk(stats=Stats(model=self.spec.id, finish_reason="stop"))


def test_a_burst_of_requests_costs_linear_queue_frames(tmp_path):
    n = 200
    client = OneTokenClient()
    service = ChatService(HistoryStore(str(tmp_path / "history")), lambda: client)
    frames: list[dict] = []

    async def burst():
        tasks = []
        for i in range(n):
            request = chat_request({"type": "chat", "id": f"r{i}", "prompt": "hi", "conversation": f"c{i}"})
            request.send = frames.append
            tasks.append(service.submit(request))
        while len(service.waiting) < n - 1:  # everyone but the first is queued
            await asyncio.sleep(0.01)
        client.gate.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 120)

    asyncio.run(burst())
    kinds = Counter(f["type"] for f in frames)
    assert kinds["done"] == n and kinds["error"] == 0
    queued = [f for f in frames if f["type"] == "queued"]
    per_request = Counter(f["id"] for f in queued)
    assert len(per_request) == n - 1 and max(per_request.values()) <= 1 + QUEUE_UPDATES
    assert len(queued) <= (1 + QUEUE_UPDATES) * n  # was n²/2 (19,900 for 200)
    # each waiter still hears its place on arrival, and that it is next
    last = {}
    for f in queued:
        last.setdefault(f["id"], []).append(f["position"])
    assert last["r10"][0] == 10 and last["r10"][-1] == 1
