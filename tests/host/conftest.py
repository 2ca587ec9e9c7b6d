"""Fixtures for host tests: a client of a real host running the bundled model, and a
teardown that stops every host the test started (found by its runtime directory)."""

from __future__ import annotations

import os

import psutil
import pytest

from jupyter_tinyai.config import load_settings


def hosts_of(runtime_dir: str) -> list[psutil.Process]:
    """Host processes serving ``runtime_dir`` (started by this test, or by its kernels)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmd = proc.info["cmdline"] or []
            if "jupyter_tinyai.host" in cmd and proc.environ().get("JUPYTER_RUNTIME_DIR") == runtime_dir:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


@pytest.fixture(autouse=True)
def stop_hosts(isolated_home):
    runtime_dir = os.environ["JUPYTER_RUNTIME_DIR"]
    yield runtime_dir
    for proc in hosts_of(runtime_dir):
        try:
            proc.kill()
            proc.wait(10)
        except psutil.Error:
            pass


@pytest.fixture
def settings():
    return load_settings(host="auto")


@pytest.fixture
def client(settings):
    from jupyter_tinyai.host.client import HostClient

    return HostClient(settings)


@pytest.fixture(scope="session")
def expected(engine):
    """The in-process engine's greedy answer to a prompt (what the host must answer too)."""
    cache = {}

    def answer(prompt: str, **kwargs) -> str:
        key = (prompt, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = engine.ask(prompt, conversation=f"expected-{len(cache)}", **kwargs)[0]
        return cache[key]

    return answer
