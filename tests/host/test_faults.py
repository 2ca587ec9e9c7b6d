"""Faults: the host dies (SIGKILL, a native crash) or gets garbage; clients survive."""

from __future__ import annotations

import glob
import json
import os
import signal
import stat

import pytest

from jupyter_tinyai.errors import EmptyPrompt, HostError
from jupyter_tinyai.host import runtime
from jupyter_tinyai.host.client import _UnixConnection

PROMPT = "What is the capital of France?"
LONG = "Write a long story about a dragon who learns to cook."


@pytest.mark.model
def test_host_killed_mid_answer_gives_a_clear_error_keeps_the_partial_text_and_restarts(client, expected):
    received = []
    killed = None
    with pytest.raises(HostError) as caught:
        for chunk in client.chat(LONG, conversation="story", max_tokens=400):
            received.append(chunk.text)
            if killed is None and "".join(received).strip():
                killed = runtime.read_info()
                os.kill(killed["pid"], signal.SIGKILL)
    assert killed is not None
    message = str(caught.value)
    assert "killed" in message and "next request starts a new host" in message
    assert caught.value.partial == "".join(received) and caught.value.partial.strip()
    # the next request starts a new host, which answers correctly
    assert client.ask(PROMPT)[0] == expected(PROMPT)
    assert runtime.read_info()["pid"] != killed["pid"]


@pytest.mark.parametrize(
    "fault, signal_name, advice",
    [
        ("sigill", "SIGILL", 'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON"'),
        ("sigsegv", "SIGSEGV", "model file"),
    ],
)
@pytest.mark.model
def test_native_crash_names_the_signal_and_what_to_do(client, expected, monkeypatch, fault, signal_name, advice):
    monkeypatch.setenv("TINYAI_TEST_FAULT", fault)  # the host crashes when it loads the model
    with pytest.raises(HostError) as caught:
        client.ask(PROMPT)
    message = str(caught.value)
    assert signal_name in message and advice in message
    assert caught.value.partial == ""
    crashed = client._info or {}
    reports = glob.glob(os.path.join(runtime.runtime_dir(), "*.crash"))
    assert len(reports) == 1 and stat.S_IMODE(os.stat(reports[0]).st_mode) == 0o600  # the report, private
    monkeypatch.delenv("TINYAI_TEST_FAULT")
    assert client.ask(PROMPT)[0] == expected(PROMPT)
    assert runtime.read_info()["pid"] != crashed.get("pid")


def _raw(info, method, path, body: bytes):
    conn = _UnixConnection(info["socket"], timeout=60)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    conn.close()
    return response.status, data


@pytest.mark.parametrize(
    "body, words",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"conversation": "x"}', "'prompt'"),
        (b'{"prompt": 5}', "must be a str"),
        (b'{"prompt": "hi", "context": [{"label": "x"}]}', "'context'"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
@pytest.mark.model
def test_malformed_request_gets_400_with_a_message_and_the_host_keeps_serving(client, expected, body, words):
    info = client.host_info()
    status, data = _raw(info, "POST", "/tinyai/chat", body)
    assert status == 400 and words in data["message"]
    assert client.ask(PROMPT)[0] == expected(PROMPT)
    assert runtime.read_info()["pid"] == info["pid"]


def test_unknown_endpoint_and_empty_prompt(client):
    info = client.host_info()
    status, data = _raw(info, "GET", "/nope", b"")
    assert status == 404 and "/nope" in data["message"]
    with pytest.raises(EmptyPrompt):
        client.ask("   ")
    status, data = _raw(info, "POST", "/v1/chat/completions", b'{"messages": [{"role": "assistant", "content": "x"}]}')
    assert status == 400 and "'user'" in data["error"]["message"]
