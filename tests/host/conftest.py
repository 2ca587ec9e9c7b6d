"""Fixtures for host tests: a client of a real host running the bundled model, and a
teardown that stops every host the test started (found by its runtime directory)."""

from __future__ import annotations

import os

import pytest
from helpers.hosts import hosts_of, kill_hosts_of  # noqa: F401 - hosts_of: for the tests here

from jupyter_tinyai.config import load_settings


@pytest.fixture(autouse=True)
def stop_hosts(isolated_home):
    runtime_dir = os.environ["JUPYTER_RUNTIME_DIR"]
    yield runtime_dir
    kill_hosts_of(runtime_dir)


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
