"""The server extension with the real background host: the sidebar and a kernel's %%ask
share one loaded model, and a host that crashed gets the saved turns back."""

from __future__ import annotations

import json
import os

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
