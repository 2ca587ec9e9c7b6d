"""The server extension with a host that stops answering (SIGSTOP): REST status answers at
once with what is wrong, a chat in progress ends with a one-line error and keeps its
partial answer, and the next chat gets a new host."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import psutil
import pytest

from jupyter_tinyai import api
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.host import liveness, runtime
from jupyter_tinyai.host.client import HostClient

pytestmark = pytest.mark.timeout(300)

LONG = "Write a long story about a dragon who learns to cook."


@pytest.fixture
def host_client(jp_environ):
    """The server's shared client is a HostClient with a short host timeout; hosts (stopped
    ones too) are killed after."""
    before = api._client
    client = HostClient(load_settings(host="auto", host_timeout=10))
    api.set_default_client(client)
    yield client
    api.set_default_client(before)
    runtime = os.environ["JUPYTER_RUNTIME_DIR"]
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "jupyter_tinyai.host" in (proc.info["cmdline"] or []) and proc.environ().get("JUPYTER_RUNTIME_DIR") == runtime:
                proc.kill()
        except psutil.Error:
            pass


def release(pid) -> None:
    """Kill a host a test stopped, if it is still there."""
    try:
        os.kill(pid, signal.SIGKILL)
    except (OSError, TypeError):
        pass


async def test_rest_status_of_a_stopped_host_answers_with_the_problem(host_client, jp_serverapp, jp_fetch):
    info = host_client.host_info()
    pid = info["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        # the signal is delivered when the process is next scheduled: on a busy machine,
        # not yet when kill() returns
        for _ in range(1000):
            if liveness.is_stopped(info):
                break
            await asyncio.sleep(0.01)
        status = json.loads((await jp_fetch("tinyai", "status")).body)  # before: a 500 after 60 s
        assert status["host"]["responding"] is False and status["host"]["pid"] == pid
        assert f"pid {pid} is not responding: stopped" in status["host"]["problem"]
        models = json.loads((await jp_fetch("tinyai", "models")).body)
        assert models["loaded"] is None and models["models"]
    finally:
        release(pid)


@pytest.mark.model
async def test_a_chat_with_a_host_stopped_mid_answer(host_client, jp_serverapp, jp_fetch, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("s1", LONG, conversation="c-stop", max_tokens=400))
    pid = None
    try:
        tokens = []
        while True:
            msg = await wire.receive(ws)
            if msg.get("id") == "s1" and msg["type"] == "token":
                tokens.append(msg["text"])
                if pid is None and "".join(tokens).strip():
                    pid = runtime.read_info()["pid"]
                    os.kill(pid, signal.SIGSTOP)
            if msg.get("id") == "s1" and msg["type"] in ("done", "error"):
                break
        assert msg["type"] == "error" and msg["kind"] == "host"
        assert f"pid {pid}" in msg["message"] and "jupyter tinyai serve --stop" in msg["message"]
        status = json.loads((await jp_fetch("tinyai", "status")).body)
        assert status["host"]["responding"] is False
        saved = json.loads((await jp_fetch("tinyai", "conversations", "c-stop")).body)
        assert saved["messages"][-1]["content"] == "".join(tokens)  # the partial answer is kept

        ws.write_message(wire.chat("s2", "Say hello.", conversation="c-other", max_tokens=8))
        second = await wire.until(ws, "s2")
        assert second[-1]["type"] == "done", second[-1]
        assert runtime.read_info()["pid"] != pid
    finally:
        ws.close()
        release(pid)
