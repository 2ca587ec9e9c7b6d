"""The sidebar's chat gets the model picked in the sidebar, else the server's configured
default: never whatever another client left loaded."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]

BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"


def start(messages) -> dict:
    return next(m for m in messages if m["type"] == "start")


async def test_a_chat_gets_the_picked_model_else_the_default(tinyai, jp_ws_fetch, wire, model_path, tmp_path):
    other = tmp_path / "other-model.gguf"
    other.symlink_to(model_path)
    tinyai.load(str(other))  # loaded by another client (a kernel, the CLI)
    ws = await jp_ws_fetch("tinyai", "chat")
    try:
        ws.write_message(wire.chat("plain", "What is the capital of France?", conversation="c-plain", max_tokens=8))
        messages = await wire.until(ws, "plain")
        assert start(messages)["model"] == BUNDLED and messages[-1]["stats"]["model"] == BUNDLED
        assert "Paris" in messages[-1]["text"]
        ws.write_message(wire.chat("picked", "Hello", conversation="c-picked", model=str(other), max_tokens=4))
        messages = await wire.until(ws, "picked")
        assert start(messages)["model"] == "llamacpp:other-model"
        assert messages[-1]["type"] == "done" and messages[-1]["stats"]["model"] == "llamacpp:other-model"
    finally:
        ws.close()
        tinyai.load()
