"""Reasoning over the chat WebSocket (a real Jupyter server; a scripted backend that thinks
in a <think> block, tests/helpers/thinking_backend.py): ``reasoning`` frames apart from the
tokens, the full text in ``done`` and in the saved history, never in what the model is sent
back, even when a restarted server rebuilds the turns from the saved history."""

from __future__ import annotations

import json

import pytest
from helpers.thinking_backend import ANSWER, REASONING, ThinkingBackend

from jupyter_tinyai import api
from jupyter_tinyai import engine as engine_module
from jupyter_tinyai.config import load_settings

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def thinking(monkeypatch, jp_serverapp, model_path):
    monkeypatch.setattr(engine_module, "backend_class", lambda name: ThinkingBackend)
    monkeypatch.setattr(ThinkingBackend, "template_opens", False)
    before = api._client
    client = engine_module.Engine(load_settings(host="inprocess"))
    api.set_default_client(client)
    yield client
    api.set_default_client(before)


async def test_reasoning_frames_done_and_history(thinking, jp_fetch, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("r1", "What is 2 + 2?", conversation="c-think"))
    messages = await wire.until(ws, "r1")
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "start" and kinds[-1] == "done", kinds
    assert kinds.index("reasoning") < kinds.index("token")  # it thinks first
    thought = "".join(m["text"] for m in messages if m["type"] == "reasoning")
    assert thought.strip() == REASONING
    assert "".join(wire.tokens(messages)) == ANSWER
    done = messages[-1]
    assert done["text"] == ANSWER and done["reasoning"] == thought
    saved = json.loads((await jp_fetch("tinyai", "conversations", "c-think")).body)
    answer = saved["messages"][-1]
    assert answer["content"] == ANSWER and answer["reasoning"] == thought
    assert thinking.history("lab:c-think")[-1].content == ANSWER

    # a restarted server (a fresh engine) rebuilds the turns from the saved history: the
    # model is sent the answers only
    fresh = engine_module.Engine(load_settings(host="inprocess"))
    api.set_default_client(fresh)
    ws.write_message(wire.chat("r2", "And 3 + 3?", conversation="c-think"))
    await wire.until(ws, "r2")
    assert [m.content for m in fresh.history("lab:c-think")][1::2] == [ANSWER, ANSWER]  # rebuilt, then answered
    sent = ThinkingBackend.last["messages"]
    assert any(m.content == ANSWER for m in sent)
    assert not any("shutil" in m.content or "<think>" in m.content for m in sent)
    ws.close()


async def test_an_answer_without_reasoning_has_no_reasoning_key(thinking, jp_fetch, jp_ws_fetch, wire, monkeypatch):
    monkeypatch.setattr("helpers.thinking_backend.SCRIPT", "Just 4.")
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("r1", "What is 2 + 2?", conversation="c-plain"))
    messages = await wire.until(ws, "r1")
    assert "reasoning" not in [m["type"] for m in messages] and "reasoning" not in messages[-1]
    saved = json.loads((await jp_fetch("tinyai", "conversations", "c-plain")).body)
    assert "reasoning" not in saved["messages"][-1]
    ws.close()
