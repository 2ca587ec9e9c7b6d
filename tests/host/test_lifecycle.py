"""Starting, finding and replacing the host; its socket's permissions; its idle timers."""

from __future__ import annotations

import glob
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

from jupyter_tinyai.backends.base import placement_text
from jupyter_tinyai.config import default_threads, load_settings
from jupyter_tinyai.host import liveness, runtime
from jupyter_tinyai.host.client import HostClient

from .conftest import hosts_of

PROMPT = "What is the capital of France?"


def wait_for(predicate, timeout=60.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.mark.model
def test_first_client_starts_the_host_and_later_clients_find_it(client, settings, expected, stop_hosts):
    assert liveness.running_host() is None
    text, stats = client.ask(PROMPT, conversation="a")
    assert text == expected(PROMPT)
    assert stats.finish_reason == "stop" and stats.generated_tokens > 0
    info = runtime.read_info()
    assert info["pid"] != os.getpid() and info["socket"].startswith(stop_hosts)
    other = HostClient(settings)  # another process would read the same runtime file
    assert other.host_info()["pid"] == info["pid"]
    assert other.ask(PROMPT, conversation="b")[0] == text
    assert len(hosts_of(stop_hosts)) == 1


def test_racing_clients_make_exactly_one_host(stop_hosts):
    code = "from jupyter_tinyai.host import lifecycle; print(lifecycle.ensure_host()['pid'])"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    pids = {int(p.communicate(timeout=120)[0]) for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(pids) == 1
    assert [p.pid for p in hosts_of(stop_hosts)] == list(pids)


@pytest.mark.model
def test_stale_runtime_file_is_detected_and_replaced(client, expected, stop_hosts):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(30)
    stale_socket = os.path.join(stop_hosts, "tinyai-host.sock")
    open(stale_socket, "w").close()
    runtime.write_info({"pid": dead.pid, "process_created": 1.0, "socket": stale_socket, "version": "0"})
    assert liveness.running_host() is None
    assert client.ask(PROMPT)[0] == expected(PROMPT)
    info = runtime.read_info()
    assert info["pid"] not in (dead.pid, None) and liveness.is_alive(info)


def test_runtime_file_of_a_live_process_that_is_not_the_host_is_stale(client, stop_hosts):
    # the pid of a running process (this one) with another start time: a reused pid
    runtime.write_info({"pid": os.getpid(), "process_created": 1.0, "socket": "/nonexistent.sock"})
    info = client.host_info()
    assert info["pid"] != os.getpid() and liveness.responds(info)


def test_socket_and_runtime_files_are_for_the_user_only(client):
    info = client.host_info()
    assert stat.S_ISSOCK(os.stat(info["socket"]).st_mode)
    assert stat.S_IMODE(os.stat(info["socket"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(info["socket"])).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(runtime.runtime_file()).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(runtime.runtime_dir()).st_mode) == 0o700
    assert os.stat(info["socket"]).st_uid == os.getuid()


def _connect_as(path: str, uid=None) -> int:
    """Exit code of a forked child that connects to ``path`` (as ``uid``): 0 connected,
    13 refused."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
            code = 0
        except PermissionError:
            code = 13
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="switching to another user needs root")
def test_another_user_cannot_use_the_socket(client):
    path = client.host_info()["socket"]
    assert _connect_as(path, uid=65534) == 13  # nobody: permission denied
    assert _connect_as(path) == 0  # the same code as this user connects


@pytest.mark.model
def test_model_unloads_after_keep_alive_and_host_exits_after_idle_time(stop_hosts):
    client = HostClient(load_settings(keep_alive=1, host_idle_exit=4))
    client.ask(PROMPT, max_tokens=8)
    info = client._info  # the host that answered (it may be exiting already on a slow machine)
    status = client.status()
    assert status["host"]["keep_alive_s"] == 1 and status["host"]["idle_exit_s"] == 4
    assert wait_for(lambda: client.status()["model"] is None), "the model was not unloaded"
    assert liveness.wait_gone(info, timeout=60), "the idle host did not exit"
    assert not os.path.exists(runtime.runtime_file())
    assert not os.path.exists(info["socket"])
    assert client.status()["host"]["running"] is False


@pytest.mark.model
def test_status_of_a_running_host(client):
    for _ in range(10):  # a client that has its answer finds the host idle: no race with "done"
        client.ask(PROMPT, max_tokens=2, conversation="st")
        assert client.status()["host"]["busy"] is False
    status = client.status()
    host = status["host"]
    assert host["pid"] == runtime.read_info()["pid"] and host["running"]
    assert host["queue"] == 0 and host["busy"] is False
    assert host["keep_alive_s"] == 600 and host["idle_exit_s"] == 3600
    assert status["model"]["source"] == "bundled" and "st" in status["conversations"]
    assert status["placement"] == placement_text("CPU", threads=default_threads())  # llama.cpp here: a CPU build
    assert status["last"]["placement"] == status["placement"]
    assert json.loads(json.dumps(status)) == status


def test_a_host_that_the_runtime_file_no_longer_names_exits(client):
    info = client.host_info()
    os.unlink(runtime.runtime_file())  # no client can find it any more
    assert liveness.wait_gone(info, timeout=60)


def test_the_default_client_is_the_host_client_unless_in_process():
    from jupyter_tinyai.api import make_client
    from jupyter_tinyai.engine import Engine

    assert isinstance(make_client(load_settings(host="auto")), HostClient)
    assert isinstance(make_client(load_settings(host="inprocess")), Engine)
    assert liveness.running_host() is None  # making a client starts nothing


@pytest.mark.model
def test_status_while_the_model_is_unloaded_does_not_crash_the_host(client):
    # status used to read llama.cpp's context while another thread freed it: a segfault
    info = client.host_info()
    stop = threading.Event()
    failures = []

    def ask_status():
        while not stop.is_set():
            try:
                assert client.status()["host"]["pid"] == info["pid"]
            except Exception as exc:  # noqa: BLE001 - any failure fails the test
                failures.append(exc)
                return

    watcher = threading.Thread(target=ask_status)
    watcher.start()
    try:
        for _ in range(30):
            client.load()
            client.unload()
            if failures:
                break
    finally:
        stop.set()
        watcher.join(60)
    assert failures == [] and liveness.is_alive(info)
    assert glob.glob(os.path.join(runtime.runtime_dir(), "*.crash")) == [runtime.crash_file(info["pid"])]
