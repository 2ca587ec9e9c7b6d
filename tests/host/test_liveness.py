"""A host that stops answering (SIGSTOP, hung) never hangs its clients: they fail within
c.TinyAI.host_timeout with one line naming the pid, `status` answers at once, and the next
request replaces the host. A live host keeps quiet streams alive."""

from __future__ import annotations

import glob
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import psutil
import pytest

from jupyter_tinyai import cli
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import HostError
from jupyter_tinyai.host import liveness, runtime
from jupyter_tinyai.host.client import HostClient

PROMPT = "What is the capital of France?"
LONG = "Write a long story about a dragon who learns to cook."
TIMEOUT = 10  # c.TinyAI.host_timeout in these tests


def wait_for(predicate, timeout=60.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def release(pid: int | None) -> None:
    """Continue and kill a host a test stopped (whatever the test's outcome)."""
    if pid is None:
        return
    for sig in (signal.SIGCONT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except OSError:
            pass


@pytest.fixture(params=["unix", "tcp"])
def transport(request, monkeypatch):
    """The host's transport: a Unix socket, or loopback TCP + token (as on Windows)."""
    if request.param == "tcp":
        monkeypatch.setenv(runtime.TRANSPORT_ENV, "tcp")
    return request.param


@pytest.mark.model
def test_a_host_stopped_mid_answer_fails_the_client_within_the_timeout_and_is_replaced(transport, expected, capsys):
    client = HostClient(load_settings(host="auto", host_timeout=TIMEOUT))
    received, stopped, failure = [], {}, {}

    def consume():
        try:
            for chunk in client.chat(LONG, conversation="stopped", max_tokens=400):
                received.append(chunk.text)
                if not stopped and "".join(received).strip():
                    stopped.update(runtime.read_info())
                    os.kill(stopped["pid"], signal.SIGSTOP)
        except HostError as exc:
            failure["error"] = exc

    thread = threading.Thread(target=consume, daemon=True)
    try:
        thread.start()
        thread.join(10 * TIMEOUT)  # a safety net: before the fix, the client waited forever
        assert not thread.is_alive(), "the client still waits for the stopped host"
        pid = stopped["pid"]
        assert ("socket" in stopped) == (transport == "unix")
        message = str(failure["error"])
        assert f"pid {pid}" in message and "is stopped" in message and "jupyter tinyai serve --stop" in message
        assert "\n" not in message
        assert failure["error"].partial == "".join(received) and failure["error"].partial.strip()

        # status answers at once, from the client and the CLI
        host = client.status()["host"]
        assert host["running"] and host["responding"] is False and host["pid"] == pid
        assert cli.main(["status"]) == 0
        out = capsys.readouterr().out
        assert f"host:     pid {pid} is not responding: stopped" in out and "serve --stop" in out

        # the next request replaces it
        assert client.ask(PROMPT)[0] == expected(PROMPT)
        assert runtime.read_info()["pid"] != pid
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        assert not os.path.exists(runtime.crash_file(pid))  # killed: no empty crash file left
    finally:
        release(stopped.get("pid"))


def _config(**values) -> None:
    path = os.path.join(os.environ["JUPYTER_CONFIG_DIR"], "jupyter_tinyai_config.json")
    with open(path, "w") as f:
        json.dump({"TinyAI": values}, f)


def _cli(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jupyter_tinyai.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.model
def test_the_cli_with_a_host_stopped_mid_answer(expected):
    _config(host_timeout=TIMEOUT)
    ask = _cli("ask", "--max-tokens", "400", LONG)
    pid = None
    try:
        first = b""
        while not first.strip():
            part = os.read(ask.stdout.fileno(), 1024)
            assert part, ask.stderr.read().decode()
            first += part
        pid = runtime.read_info()["pid"]
        os.kill(pid, signal.SIGSTOP)
        rest, err = ask.communicate(timeout=10 * TIMEOUT)  # before the fix: it never returned
        err = err.decode()
        assert ask.returncode == 1 and "Traceback" not in err
        last = err.strip().splitlines()[-1]  # (a progress line may come before it)
        assert last.startswith(f"error: the model host (pid {pid}) has sent nothing") and "serve --stop" in last
        assert (first + rest).decode().strip()  # the partial answer was printed

        status = _cli("status")
        out, err = status.communicate(timeout=60)
        assert status.returncode == 0, err
        assert f"pid {pid} is not responding: stopped" in out.decode()

        again = _cli("ask", "-q", PROMPT)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        assert out.decode().rstrip("\n") == expected(PROMPT)
        assert runtime.read_info()["pid"] != pid
    finally:
        ask.kill()
        release(pid)


MUTE_HOST = """
import socket, sys, time
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(64)  # connections are accepted by the kernel; nothing ever answers
print("ready", flush=True)
time.sleep(600)
"""


def test_a_host_that_accepts_connections_but_does_not_answer_is_replaced(client, stop_hosts, tmp_path):
    path = str(tmp_path / "mute.sock")
    mute = subprocess.Popen([sys.executable, "-c", MUTE_HOST, path], stdout=subprocess.PIPE, text=True)
    try:
        assert mute.stdout.readline() == "ready\n"
        info = {"pid": mute.pid, "process_created": psutil.Process(mute.pid).create_time(), "socket": path}
        runtime.write_info(info)
        liveness.connect(info, timeout=5).close()  # it accepts connections...
        assert not liveness.responds(info, timeout=2)  # ...but does not answer

        host = client.status()["host"]
        assert host["responding"] is False and f"pid {mute.pid} is not responding: no answer within" in host["problem"]

        new = client.host_info()  # the next request replaces it
        assert new["pid"] != mute.pid and liveness.responds(new)
        assert mute.wait(30) == -signal.SIGKILL
    finally:
        mute.kill()
        mute.wait(30)


@pytest.mark.model
def test_a_live_host_keeps_a_long_silence_alive(monkeypatch, expected):
    # loading takes 2.5 timeouts without a progress event (a big model from a slow disk)
    monkeypatch.setenv("TINYAI_TEST_FAULT", f"slow-load:{2.5 * 4}")
    client = HostClient(load_settings(host="auto", host_timeout=4))
    assert client.ask(PROMPT)[0] == expected(PROMPT)


def test_a_stopped_host_stops_with_serve_stop_and_leaves_no_crash_file(client, capsys):
    info = client.host_info()
    crash = runtime.crash_file(info["pid"])
    assert stat.S_IMODE(os.stat(crash).st_mode) == 0o600
    os.kill(info["pid"], signal.SIGSTOP)
    try:
        assert cli.main(["serve", "--stop"]) == 0
        assert "the model host stopped" in capsys.readouterr().out
        assert liveness.wait_gone(info, timeout=30)
        assert glob.glob(os.path.join(runtime.runtime_dir(), "*.crash")) == []
        assert not os.path.exists(runtime.runtime_file())
    finally:
        release(info["pid"])
