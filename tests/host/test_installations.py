"""A host started by another installation (another version, environment or package copy)
is not used: replaced when it is idle, refused with a message while it is answering one of
its own clients or serves a port."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import jupyter_tinyai
from jupyter_tinyai.errors import HostError
from jupyter_tinyai.host import installation, liveness, runtime
from jupyter_tinyai.host.client import _UnixConnection

OTHER_VERSION = "0.0.1+other"
PROMPT = "What is the capital of France?"
LONG = "Write a long story about a dragon who learns to cook."


def wait_for(predicate, timeout=60.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.fixture
def other_host(tmp_path):
    """Start a host from a copy of this package that says it is another version; its info."""
    root = tmp_path / "other"
    package = root / "jupyter_tinyai"
    shutil.copytree(os.path.dirname(jupyter_tinyai.__file__), package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "_version.py").write_text(f'__version__ = "{OTHER_VERSION}"\n')

    def start(*args) -> dict:
        env = {**os.environ, "PYTHONPATH": str(root)}
        proc = subprocess.Popen([sys.executable, "-m", "jupyter_tinyai.host", *args], cwd=tmp_path, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        assert wait_for(lambda: (runtime.read_info() or {}).get("pid") == proc.pid and liveness.responds(runtime.read_info()))
        info = runtime.read_info()
        assert info["version"] == OTHER_VERSION
        return info

    start.root = str(root)
    return start


def test_an_idle_host_of_another_installation_is_replaced(client, other_host):
    other = other_host()
    info = client.host_info()
    assert info["pid"] != other["pid"]
    assert liveness.wait_gone(other, timeout=60)  # it was asked to stop, and did
    assert installation.same_installation(info) and info["version"] == jupyter_tinyai.__version__
    assert other["package"] == os.path.realpath(os.path.join(other_host.root, "jupyter_tinyai")) != info["package"]
    assert liveness.responds(info)


def test_a_host_of_another_installation_serving_a_port_is_refused(client, other_host):
    other = other_host("--port", "0")
    with pytest.raises(HostError) as caught:
        client.host_info()
    message = str(caught.value)
    assert f"pid {other['pid']}" in message and OTHER_VERSION in message and "OpenAI-compatible API" in message
    assert "jupyter tinyai serve --stop" in message
    assert liveness.is_alive(other) and runtime.read_info()["pid"] == other["pid"]


@pytest.mark.model
def test_a_busy_host_of_another_installation_is_left_to_finish_then_replaced(client, other_host, expected):
    other = other_host()
    # a client of the other installation is in the middle of an answer
    conn = _UnixConnection(other["socket"], timeout=120)
    conn.request("POST", "/tinyai/chat", body=json.dumps({"prompt": LONG, "conversation": "theirs", "max_tokens": 200}),
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    lines = iter(response.readline, b"")
    assert any(line.startswith(b"event: chunk") for line in lines)

    with pytest.raises(HostError) as caught:
        client.ask(PROMPT)
    message = str(caught.value)
    assert f"pid {other['pid']}" in message and OTHER_VERSION in message
    assert "try again when it is done" in message and "jupyter tinyai serve --stop" in message

    events = [line for line in lines if line.startswith(b"event: ")]  # its answer goes on to the end
    conn.close()
    assert events[-1] == b"event: done\n" and b"event: error\n" not in events
    assert client.ask(PROMPT)[0] == expected(PROMPT)  # idle now: replaced
    assert runtime.read_info()["pid"] != other["pid"] and liveness.wait_gone(other, timeout=60)
