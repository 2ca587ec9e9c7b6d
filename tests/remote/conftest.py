"""A real OpenAI-compatible server for the remote backend's tests: llama-cpp-python's own
``llama_cpp.server`` with the bundled model and an API key, on 127.0.0.1.

The session server is started once and killed at teardown; tests that kill a server start
their own with :func:`start_server`.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time

import pytest

from jupyter_tinyai.config import load_settings

API_KEY = "tinyai-test-key-5f1c9a"  # a test secret: it must never show up in any output
KEY_ENV = "TINYAI_TEST_REMOTE_KEY"
ALIAS = "smollm2"
N_CTX = 2048


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log_path):
        self.process, self.port, self.log_path = process, port, log_path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/v1/models")
        status = conn.getresponse().status
        conn.close()
        return status in (200, 401)
    except OSError:
        return False


def start_server(model_path: str, log_dir, timeout: float = 180) -> Server:
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", model_path, "--model_alias", ALIAS,
             "--host", "127.0.0.1", "--port", str(port), "--api_key", API_KEY,
             "--n_ctx", str(N_CTX), "--n_threads", "2", "--verbose", "false"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    server = Server(process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        if _answers(port):
            return server
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"llama_cpp.server did not start within {timeout} s:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def server(model_path, tmp_path_factory):
    """llama_cpp.server with the bundled model, started once for the session."""
    srv = start_server(model_path, tmp_path_factory.mktemp("remote-server"))
    yield srv
    srv.stop()


@pytest.fixture
def remote_settings(server, monkeypatch):
    """In-process settings with the session server configured as remote "lab"."""
    monkeypatch.setenv(KEY_ENV, API_KEY)
    return load_settings(host="inprocess", remotes={"lab": {"url": server.url, "api_key_env": KEY_ENV, "n_ctx": N_CTX}})


@pytest.fixture
def remote_engine(remote_settings):
    from jupyter_tinyai.engine import Engine

    engine = Engine(remote_settings)
    yield engine
    engine.unload()
