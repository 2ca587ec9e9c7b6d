"""Connections that misbehave: half-sent requests do not hold the host's threads, and a
client that gives up on a non-streamed OpenAI completion stops its generation."""

from __future__ import annotations

import json
import socket
import time

import psutil
import pytest

from jupyter_tinyai.host import liveness, runtime

LONG = "Write a long story about a dragon who learns to cook."


def wait_for(predicate, timeout=60.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _port(client) -> int:
    url = client._json("POST", "/tinyai/listen", {"port": 0})["url"]
    return int(url.split(":")[2].split("/")[0])


def test_half_sent_requests_are_dropped_and_the_host_keeps_serving(client):
    info = client.host_info()
    port = _port(client)
    host = psutil.Process(info["pid"])
    threads = host.num_threads()
    socks = []
    try:
        for _ in range(100):
            sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Le")
            socks.append(sock)
        assert host.num_threads() > threads  # each holds a handler thread
        assert liveness.responds(info)  # meanwhile the host answers
        for sock in socks:  # the host closes each after its request timeout (before the fix: never)
            try:
                assert sock.recv(1) == b""
            except ConnectionResetError:
                pass
        assert wait_for(lambda: host.num_threads() <= threads + 2)
        assert client.status()["host"]["pid"] == info["pid"]
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.model
def test_an_abandoned_non_streamed_openai_request_stops_generating(client):
    port = _port(client)
    token = runtime.read_info()["token"]
    body = json.dumps({"model": "default", "messages": [{"role": "user", "content": LONG}], "max_tokens": 400}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    assert wait_for(lambda: client.status()["busy"], timeout=120)  # generating
    sock.close()  # the client gives up
    assert wait_for(lambda: not client.status()["host"]["busy"], timeout=120)
    last = client.status()["last"]
    assert last["finish_reason"] == "cancelled" and last["generated_tokens"] < 400
