"""Serving: three clients at once, the queue, cancel and disconnect, shared conversations."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest
from jupyter_client.manager import start_new_kernel

from jupyter_tinyai.host import liveness
from jupyter_tinyai.host.client import HostClient, _UnixConnection
from jupyter_tinyai.types import Message

from .conftest import hosts_of

pytestmark = pytest.mark.model

PROMPTS = ["What is the capital of France?", "What is the capital of Germany?", "What is 2 + 2?"]
LONG = "Write a long story about a dragon who learns to cook."


def _kernel_code(prompt: str, cid: str) -> str:
    return (
        "from jupyter_tinyai.api import default_client\n"
        f"text, stats = default_client().ask({prompt!r}, conversation={cid!r})\n"
        "import json; print(json.dumps({'text': text, 'client': type(default_client()).__name__}))\n"
    )


def _kernel_result(kc, msg_id, timeout=300) -> dict:
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return json.loads("".join(out))
    raise AssertionError("the kernel did not answer in time")


def test_two_kernels_and_the_cli_at_once_get_complete_correct_answers(expected, stop_hosts):
    wanted = [expected(p) for p in PROMPTS]
    kernels = [start_new_kernel(kernel_name="python3", env=dict(os.environ), startup_timeout=120) for _ in range(2)]
    try:
        msg_ids = [kc.execute(_kernel_code(PROMPTS[i], f"kernel-{i}")) for i, (_, kc) in enumerate(kernels)]
        cli = subprocess.Popen([sys.executable, "-m", "jupyter_tinyai.cli", "ask", "-q", PROMPTS[2]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        results = [_kernel_result(kc, msg_id) for (_, kc), msg_id in zip(kernels, msg_ids)]
        cli_out, cli_err = cli.communicate(timeout=300)
    finally:
        for km, kc in kernels:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    assert cli.returncode == 0, cli_err
    assert [r["client"] for r in results] == ["HostClient", "HostClient"]
    assert [r["text"] for r in results] + [cli_out.rstrip("\n")] == wanted
    assert len(hosts_of(stop_hosts)) == 1  # all three used one host


def test_a_waiting_client_is_told_its_queue_position(client, settings, expected):
    second = HostClient(settings)
    got = {}

    def ask_second():
        got["chunks"] = list(second.chat(PROMPTS[0], conversation="second"))

    first = client.chat(LONG, conversation="first", max_tokens=300)
    started = None
    for chunk in first:
        if chunk.text and started is None:
            started = threading.Thread(target=ask_second)
            started.start()
            # wait until the host has queued it (it reports the position in status)
            deadline = time.monotonic() + 30
            while client.status()["host"]["queue"] < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
    started.join(120)
    notices = [c.notice for c in got["chunks"] if c.notice]
    assert notices and "waiting for 1 earlier request" in notices[0]
    assert "".join(c.text for c in got["chunks"]) == expected(PROMPTS[0])


def test_cancel_stops_the_answer_and_the_host_is_ready(client, expected):
    chunks = []
    for chunk in client.chat(LONG, conversation="cancel-me", max_tokens=400):
        chunks.append(chunk)
        if chunk.text and len(chunks) == 3:
            assert client.cancel() is True
    stats = chunks[-1].stats
    assert stats.finish_reason == "cancelled"
    assert stats.generated_tokens < 400
    partial = "".join(c.text for c in chunks)
    assert client.history("cancel-me")[-1] == Message("assistant", partial)
    assert client.cancel() is False
    assert client.ask(PROMPTS[0])[0] == expected(PROMPTS[0])


def test_cancel_event_from_another_thread(client):
    event = threading.Event()
    chunks = []
    for chunk in client.chat(LONG, conversation="event", max_tokens=400, cancel=event):
        chunks.append(chunk)
        if chunk.text:
            event.set()
    assert chunks[-1].stats.finish_reason == "cancelled"


def test_a_client_that_disconnects_stops_its_generation(client, expected):
    info = client.host_info()
    conn = _UnixConnection(info["socket"], timeout=60)
    body = json.dumps({"prompt": LONG, "conversation": "gone", "max_tokens": 400})
    conn.request("POST", "/tinyai/chat", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    for line in iter(response.readline, b""):
        if line.startswith(b"event: chunk"):
            break
    response.close()
    conn.close()
    deadline = time.monotonic() + 60
    while client.status()["busy"] and time.monotonic() < deadline:
        time.sleep(0.02)
    status = client.status()
    assert status["busy"] is False
    assert status["last"]["finish_reason"] == "cancelled"
    assert status["last"]["generated_tokens"] < 400
    assert client.ask(PROMPTS[1])[0] == expected(PROMPTS[1])


def test_conversations_live_in_the_host_and_any_client_reuses_their_cache(client, settings):
    other = HostClient(settings)
    _, first = client.ask("My name is Ada. Say hello to me.", conversation="shared")
    other.ask(PROMPTS[1], conversation="elsewhere")  # another conversation in between
    text, follow_up = other.ask("What is my name?", conversation="shared")
    assert follow_up.cached_tokens >= first.prompt_tokens  # the first turn was not evaluated again
    history = client.history("shared")
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[-1].content == text
    other.reset("shared")
    assert client.history("shared") == []
    client.set_history("restored", [Message("user", "Hi"), Message("assistant", "Hello!")])
    assert other.history("restored") == [Message("user", "Hi"), Message("assistant", "Hello!")]


def test_switching_models_unloads_the_old_one(client, model_path, tmp_path):
    copy = tmp_path / "Other-Copy.Q4_1.gguf"
    shutil.copy(model_path, copy)
    progress = []
    spec = client.load(str(copy), progress=lambda f, m: progress.append(f))
    assert spec.path == str(copy) and progress[-1] == 1.0
    assert client.status()["model"]["path"] == str(copy)
    _, stats = client.ask(PROMPTS[0], model=model_path)
    assert client.status()["model"]["path"] == model_path
    assert stats.model == client.status()["model"]["id"]
    client.unload()
    assert client.status()["model"] is None
    assert client.count_tokens("hello world") > 0  # loads the default again
    assert liveness.running_host()["pid"] == client.host_info()["pid"]
