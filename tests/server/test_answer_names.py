"""Each answer names its model: the chat's done frame and the stored history messages carry
the model's display name and an ISO time, also after a switch of model."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from jupyter_tinyai.server.chat import display_name

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]

NAME = "SmolLM2-135M-Instruct-Q4_1"


def parsed(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    assert when.tzinfo is not None and abs((datetime.now(timezone.utc) - when).total_seconds()) < 3600
    return when


async def test_done_frames_and_history_name_each_answers_model_and_time(tinyai, jp_fetch, jp_ws_fetch, wire,
                                                                         model_path, tmp_path):
    other = tmp_path / "other-model.gguf"
    other.symlink_to(model_path)
    ws = await jp_ws_fetch("tinyai", "chat")
    try:
        ws.write_message(wire.chat("n1", "Say hello.", conversation="c-names", max_tokens=4))
        first = (await wire.until(ws, "n1"))[-1]
        ws.write_message(wire.chat("n2", "Say hello.", conversation="c-names", model=str(other), max_tokens=4))
        second = (await wire.until(ws, "n2"))[-1]
    finally:
        ws.close()
        tinyai.load()
    assert (first["type"], first["model"]) == ("done", NAME)
    assert (second["type"], second["model"]) == ("done", "other-model")
    assert parsed(first["time"]) <= parsed(second["time"])
    saved = json.loads((await jp_fetch("tinyai", "conversations", "c-names")).body)["messages"]
    assert [m["role"] for m in saved] == ["user", "assistant", "user", "assistant"]
    assert [m.get("model") for m in saved] == [None, NAME, None, "other-model"]
    assert saved[1]["time"] == first["time"] and saved[3]["time"] == second["time"]
    assert all(parsed(m["time"]) for m in saved)


def test_the_display_name_drops_the_backend_or_remote():
    assert display_name("llamacpp:SmolLM2-135M-Instruct-Q4_1") == NAME
    assert display_name("lab:qwen3:4b") == "qwen3:4b"
    assert display_name(None) is None
