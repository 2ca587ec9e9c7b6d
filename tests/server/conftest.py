"""A real Jupyter server (pytest-jupyter) with our extension, answering with the real
bundled model: the session's engine is made the process's shared client, so the model is
loaded once for every test here."""

from __future__ import annotations

import asyncio
import json

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403 - its fixtures (jp_serverapp, jp_fetch, …)

TIMEOUT = 120  # seconds for any one WebSocket message; a test fails instead of hanging


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyter_tinyai": True}}}


@pytest.fixture
def shared_engine(engine):
    """The session engine as the shared client that the server extension uses (for this
    test only: other tests of the session keep their own)."""
    from jupyter_tinyai import api

    before = api._client
    api.set_default_client(engine)
    yield engine
    api.set_default_client(before)


@pytest.fixture
def tinyai(shared_engine, jp_serverapp):
    """The running server; the engine's model loaded (as the only one)."""
    shared_engine.load()
    return shared_engine


class Wire:
    """Helpers to talk the chat protocol over a WebSocket, each read with a timeout."""

    @staticmethod
    async def receive(ws, timeout=TIMEOUT) -> dict:
        raw = await asyncio.wait_for(ws.read_message(), timeout)
        assert raw is not None, "the server closed the WebSocket"
        return json.loads(raw)

    @classmethod
    async def until(cls, ws, request_id, last=("done", "error")) -> list[dict]:
        """Every message for ``request_id`` up to and including its last one."""
        messages = []
        while True:
            msg = await cls.receive(ws)
            if msg.get("id") != request_id:
                continue
            messages.append(msg)
            if msg["type"] in last:
                return messages

    @staticmethod
    def chat(request_id, prompt, **extra) -> str:
        return json.dumps({"type": "chat", "id": request_id, "prompt": prompt, **extra})

    @staticmethod
    def tokens(messages) -> list[str]:
        return [m["text"] for m in messages if m["type"] == "token"]


@pytest.fixture
def wire():
    return Wire
