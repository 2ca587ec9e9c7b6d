"""An inline explanation's turns (``"inline": true`` on the chat message) start a
conversation left out of History; a turn sent from the sidebar keeps it there. The model is
not under test: the real Engine over a backend that answers "ok"."""

from __future__ import annotations

import asyncio

import pytest
from helpers.one_token import OneTokenEngine

from jupyter_tinyai.server.chat import BadMessage, ChatService, chat_request
from jupyter_tinyai.server.history import HistoryStore


def _run(service, frames, rid, conversation, **extra):
    request = chat_request({"type": "chat", "id": rid, "prompt": "explain", "conversation": conversation,
                            "notebook": "a.ipynb", **extra})
    request.send = frames.append
    service.submit(request)
    return request


def test_inline_turns_stay_out_of_history_until_the_sidebar_continues(tmp_path):
    engine = OneTokenEngine()
    engine.gate.set()
    store = HistoryStore(str(tmp_path / "history"))
    service = ChatService(store, lambda: engine)
    frames: list[dict] = []

    async def scenario():
        await asyncio.wait_for(_run(service, frames, "r1", "expl", inline=True).task, 30)
        assert store.get("expl")["messages"][-1]["content"] == "ok"
        assert store.list("a.ipynb") == []
        await asyncio.wait_for(_run(service, frames, "r2", "expl").task, 30)  # a follow-up in the sidebar
        assert [c["id"] for c in store.list("a.ipynb")] == ["expl"]

    asyncio.run(scenario())


def test_inline_must_be_a_boolean():
    with pytest.raises(BadMessage, match="'inline' must be true or false"):
        chat_request({"type": "chat", "id": "r", "prompt": "hi", "inline": "yes"})
