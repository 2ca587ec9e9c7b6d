"""The host's log: a client that resets its connection is one line, not a traceback; the log
is rotated at its size cap, one old file kept, and the host's stdout/stderr follow it."""

from __future__ import annotations

import logging
import os
import pathlib
import re
import socket
import threading

from jupyter_tinyai.host import hostlog
from jupyter_tinyai.host.listeners import UnixHTTPServer


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records, self.came = [], threading.Event()

    def emit(self, record):
        self.records.append(record)
        self.came.set()


def test_a_client_that_resets_its_connection_is_one_line(tmp_path, capsys):
    replied = threading.Event()

    def route(handler):
        handler.reply(200, {"ok": True})
        replied.set()

    path = str(tmp_path / "s.sock")
    server = UnixHTTPServer(path, None, {("GET", "/x"): route})
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    records, level = Records(), hostlog.log.level
    hostlog.log.addHandler(records)
    hostlog.log.setLevel(logging.INFO)  # as install() sets it in the host
    try:
        client = socket.socket(socket.AF_UNIX)
        client.connect(path)
        client.sendall(b"GET /x HTTP/1.1\r\nHost: local\r\n\r\n")
        assert replied.wait(10)
        client.close()  # the answer unread: the host's next read of this connection is reset
        assert records.came.wait(10)
    finally:
        hostlog.log.removeHandler(records)
        hostlog.log.setLevel(level)
        server.shutdown()
        server.server_close()
    [record] = records.records
    assert record.exc_info is None and "ConnectionResetError" in record.getMessage()
    assert "Traceback" not in capsys.readouterr().err


def test_the_log_rotates_at_its_cap_keeping_one_old_file_and_stderr_follows(tmp_path):
    path = tmp_path / "tinyai-host.log"
    stderr = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # as the host's fd 2
    logger = logging.getLogger("test-hostlog")
    logger.propagate = False
    handler = hostlog.HostLog(str(path), max_bytes=2000, fds=(stderr,))
    logger.addHandler(handler)
    try:
        for i in range(200):
            logger.warning("line %03d %s", i, "x" * 40)
        os.write(stderr, b"native output after the rotations\n")
    finally:
        logger.removeHandler(handler)
        handler.close()
        os.close(stderr)
    old = tmp_path / "tinyai-host.log.1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tinyai-host.log", "tinyai-host.log.1"]
    assert path.stat().st_size <= 2000 and old.stat().st_size <= 2000
    text = path.read_text()
    assert "line 199" in text and text.endswith("native output after the rotations\n")
    assert "native output" not in old.read_text()
    assert path.stat().st_mode & 0o777 == 0o600 and old.stat().st_mode & 0o777 == 0o600


def test_a_log_grown_past_its_cap_is_rotated_when_the_host_starts(tmp_path):
    path = tmp_path / "tinyai-host.log"
    path.write_bytes(b"old\n" * 1000)
    handler = hostlog.HostLog(str(path), max_bytes=2000)
    handler.close()
    assert path.stat().st_size == 0 and (tmp_path / "tinyai-host.log.1").stat().st_size == 4000



def test_a_started_host_logs_a_client_reset_as_one_line_in_its_log(client):
    import time

    from jupyter_tinyai.host import runtime

    info = client.host_info()
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(info["socket"])
    conn.sendall(b"GET /tinyai/ping HTTP/1.1\r\nHost: local\r\n\r\n")
    conn.settimeout(30)
    while True:  # until the whole answer came (the host then reads this connection again); left unread
        head, sep, body = conn.recv(65536, socket.MSG_PEEK).partition(b"\r\n\r\n")
        if sep and len(body) >= int(re.search(rb"Content-Length: (\d+)", head).group(1)):
            break
    conn.close()
    deadline = time.monotonic() + 30
    log = pathlib.Path(runtime.log_file())
    while "a client closed its connection" not in (text := log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "ConnectionResetError); the host goes on" in text and "Traceback" not in text
    assert text.count("a client closed its connection") == 1
