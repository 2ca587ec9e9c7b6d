"""A stop while a remote has not answered yet — the model list that loading it asks for —
ends the request as stopped, at once: the queue does not wait for the remote's timeout."""

from __future__ import annotations

import socket
import threading

import pytest

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine

pytestmark = pytest.mark.timeout(300)


class Silent:
    """A server that accepts connections and never answers (busy, or a dead process behind a proxy)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.accepted = threading.Event()
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def close(self):
        for conn in self.conns:
            conn.close()
        self.sock.close()


def test_a_stop_while_the_remote_is_silent_ends_the_request_as_stopped():
    silent = Silent()
    # a timeout far beyond the wait below: only the stop can end the request in time
    engine = Engine(load_settings(host="inprocess", remotes={"lab": {"url": silent.url, "timeout": 3000}}))
    cancel, chunks, failed = threading.Event(), [], []

    def ask():
        try:
            chunks.extend(engine.chat("hi", model="lab:m", conversation="c", cancel=cancel))
        except Exception as exc:  # noqa: BLE001 - asserted below
            failed.append(exc)

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    try:
        assert silent.accepted.wait(60), "the engine asked the remote"
        cancel.set()
        worker.join(120)
        assert not worker.is_alive(), "the stop ended the request without waiting for the remote"
        assert failed == []
        assert chunks and chunks[-1].stats.finish_reason == "cancelled"
    finally:
        silent.close()
