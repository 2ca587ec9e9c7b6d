"""The sidebar's queue is the model's: a request waits in the client's queue (an in-process
engine's here, the host's in test_shared_host.py), which tells the WebSocket its place; a
burst of N requests costs O(N) `queued` frames, not O(N²); a stop while waiting ends it.

The model is not under test here: the real Engine runs a backend that answers "ok", so
hundreds of requests go through the real queue, ChatService and history store in seconds.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from helpers.one_token import OneTokenEngine

from jupyter_tinyai.server.chat import QUEUE_UPDATES, ChatService, chat_request
from jupyter_tinyai.server.history import HistoryStore


def _submit(service, frames, rid, conversation):
    request = chat_request({"type": "chat", "id": rid, "prompt": "hi", "conversation": conversation})
    request.send = frames.append
    service.submit(request)
    return request


def test_a_burst_of_requests_costs_linear_queue_frames(tmp_path):
    n = 200
    engine = OneTokenEngine()
    service = ChatService(HistoryStore(str(tmp_path / "history")), lambda: engine)
    frames: list[dict] = []

    async def burst():
        requests = [_submit(service, frames, f"r{i}", f"c{i}") for i in range(n)]
        while engine.queue.waiting() < n - 1:  # everyone but the first waits for the model
            await asyncio.sleep(0.01)
        engine.gate.set()
        await asyncio.wait_for(asyncio.gather(*(r.task for r in requests)), 120)

    asyncio.run(burst())
    kinds = Counter(f["type"] for f in frames)
    assert kinds["done"] == kinds["start"] == n and kinds["error"] == 0
    queued = [f for f in frames if f["type"] == "queued"]
    places: dict[str, list[int]] = {}
    for f in queued:
        places.setdefault(f["id"], []).append(f["position"])
    assert len(places) == n - 1 and max(len(p) for p in places.values()) <= 1 + QUEUE_UPDATES
    assert len(queued) <= (1 + QUEUE_UPDATES) * n  # was n²/2 (19,900 for 200)
    # each waiter hears its place on arrival (all of them: 1 to n - 1), then that it is next
    assert sorted(p[0] for p in places.values()) == list(range(1, n))
    assert all(p[-1] == 1 and p == sorted(p, reverse=True) for p in places.values())


def test_one_at_a_time_and_a_stop_while_waiting_ends_it_at_once(tmp_path):
    """c.TinyAI.host = "inprocess": the engine's own queue serves the sidebar as the host's does."""
    engine = OneTokenEngine()
    store = HistoryStore(str(tmp_path / "history"))
    service = ChatService(store, lambda: engine)
    frames: list[dict] = []

    async def scenario():
        first = _submit(service, frames, "a", "c-a")
        while not any(f["type"] == "start" for f in frames):
            await asyncio.sleep(0.01)
        second = _submit(service, frames, "b", "c-b")
        while not any(f["type"] == "queued" for f in frames):
            await asyncio.sleep(0.01)
        service.stop(second)
        await asyncio.wait_for(second.task, 30)
        assert not first.task.done()  # the first still answers
        engine.gate.set()
        await asyncio.wait_for(first.task, 30)

    asyncio.run(scenario())
    by_id: dict[str, list[dict]] = {"a": [], "b": []}
    for f in frames:
        by_id[f["id"]].append(f)
    assert [f["type"] for f in by_id["b"]] == ["queued", "done"]
    assert by_id["b"][0]["position"] == 1 and by_id["b"][1]["stats"]["finish_reason"] == "cancelled"
    assert by_id["a"][-1]["type"] == "done" and by_id["a"][-1]["text"] == "ok"
    assert store.get("c-b") is None  # a request that never began leaves no history


def test_the_turns_of_one_conversation_wait_for_each_other(tmp_path):
    engine = OneTokenEngine()
    engine.gate.set()
    store = HistoryStore(str(tmp_path / "history"))
    service = ChatService(store, lambda: engine)
    frames: list[dict] = []

    async def both():
        requests = [_submit(service, frames, rid, "c-same") for rid in ("x", "y")]
        await asyncio.wait_for(asyncio.gather(*(r.task for r in requests)), 30)

    asyncio.run(both())
    assert [m["role"] for m in store.get("c-same")["messages"]] == ["user", "assistant", "user", "assistant"]
    assert [m.role for m in engine.history("lab:c-same")] == ["user", "assistant", "user", "assistant"]
