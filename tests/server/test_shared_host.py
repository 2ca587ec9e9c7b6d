"""The server extension with the real background host: the sidebar and a kernel's %%ask
share one loaded model, and a host that crashed gets the saved turns back."""

from __future__ import annotations

import asyncio
import json
import os
import threading

import psutil
import pytest

from jupyter_tinyai import api
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.host.client import HostClient

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]


@pytest.fixture
def host_client(jp_environ, shared_engine):
    """The server's shared client is a HostClient (as by default); hosts stopped after."""
    client = HostClient(load_settings(host="auto"))
    api.set_default_client(client)
    yield client
    api.set_default_client(shared_engine)
    runtime = os.environ["JUPYTER_RUNTIME_DIR"]
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "jupyter_tinyai.host" in (proc.info["cmdline"] or []) and proc.environ().get("JUPYTER_RUNTIME_DIR") == runtime:
                proc.kill()
        except psutil.Error:
            pass


async def test_sidebar_and_kernel_share_the_host_model(host_client, jp_serverapp, jp_fetch, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("h1", "My favourite colour is blue.", conversation="c-host", max_tokens=8))
    first = await wire.until(ws, "h1")
    assert first[-1]["type"] == "done", first[-1]
    start = next(i for i, m in enumerate(first) if m["type"] == "start")
    model = first[start]["model"]
    # a fresh host loads the model first: progress messages come before "start"
    assert start >= 1 and all(m["type"] == "progress" for m in first[:start])
    assert first[start - 1]["fraction"] == 1.0

    kernel = HostClient(load_settings(host="auto"))  # what a notebook kernel's %%ask uses
    status = kernel.status()
    assert status["model"]["id"] == model
    assert "lab:c-host" in status["conversations"]
    pid = status["host"]["pid"]
    text, _ = kernel.ask("Say hello.", conversation="default", max_tokens=4)
    assert text and kernel.status()["host"]["pid"] == pid
    served = json.loads((await jp_fetch("tinyai", "status")).body)
    assert served["host"]["pid"] == pid and served["model"]["id"] == model

    # the host crashes; the next sidebar turn starts a new one and gives it the saved turns
    psutil.Process(pid).kill()
    psutil.Process(pid).wait(30)
    ws.write_message(wire.chat("h2", "What is my favourite colour?", conversation="c-host", max_tokens=8))
    second = await wire.until(ws, "h2")
    assert second[-1]["type"] == "done", second[-1]
    ws.close()
    assert kernel.status()["host"]["pid"] != pid
    turns = kernel.history("lab:c-host")
    assert [m.content for m in turns[:2]] == ["My favourite colour is blue.", first[-1]["text"]]
    assert len(turns) == 4


async def test_a_request_waiting_for_the_host_is_told_its_place_once_and_can_be_stopped(
        host_client, jp_serverapp, jp_ws_fetch, wire):
    """The place comes from the host's queue (the server keeps none): one `queued` message,
    not a queue notice besides; a stop while waiting ends the request at once."""
    kernel = HostClient(load_settings(host="auto"))  # a notebook's %%ask holds the model
    answering, answered = threading.Event(), []

    def ask():
        for chunk in kernel.chat("Write a long story about a dragon.", conversation="kernel", max_tokens=300):
            answering.set()
            answered.append(chunk)

    thread = threading.Thread(target=ask)
    thread.start()
    try:
        assert await asyncio.get_running_loop().run_in_executor(None, answering.wait, 120)
        ws = await jp_ws_fetch("tinyai", "chat")
        ws.write_message(wire.chat("gone", "Say goodbye.", conversation="c-gone", max_tokens=8))
        assert await wire.receive(ws) == {"type": "queued", "id": "gone", "position": 1}
        ws.write_message(json.dumps({"type": "stop", "id": "gone"}))
        stopped = await wire.until(ws, "gone")
        assert [m["type"] for m in stopped] == ["done"] and stopped[0]["stats"]["finish_reason"] == "cancelled"

        ws.write_message(wire.chat("w", "Say hello.", conversation="c-wait", max_tokens=8))
        messages = await wire.until(ws, "w")
        ws.close()
    finally:
        thread.join(120)
    kinds = [m["type"] for m in messages]
    assert messages[0] == {"type": "queued", "id": "w", "position": 1}
    assert not any("waiting" in m.get("text", "") for m in messages if m["type"] == "notice")
    assert kinds.index("start") > 0 and kinds[-1] == "done" and messages[-1]["text"]
    assert answered[-1].stats.finish_reason in ("stop", "length")  # the kernel's answer went on
