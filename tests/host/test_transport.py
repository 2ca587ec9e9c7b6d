"""The loopback TCP + token transport that Windows uses, forced on this machine through
TINYAI_HOST_TRANSPORT=tcp: a token is required, a wrong one refused, and clients work end
to end (the stopped-host tests in test_liveness.py also run over it)."""

from __future__ import annotations

import http.client
import os
import stat

import pytest

from jupyter_tinyai import cli
from jupyter_tinyai.host import liveness, runtime

PROMPT = "What is the capital of France?"


@pytest.fixture(autouse=True)
def tcp(monkeypatch):
    monkeypatch.setenv(runtime.TRANSPORT_ENV, "tcp")


def _get(info, path, token=None, origin=None):
    conn = http.client.HTTPConnection("127.0.0.1", int(info["port"]), timeout=60)
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if origin:
        headers["Origin"] = origin
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def test_the_tcp_host_needs_its_token(client):
    info = client.host_info()
    assert "socket" not in info and info["port"] and len(info["token"]) >= 32
    assert stat.S_IMODE(os.stat(runtime.runtime_file()).st_mode) == 0o600  # where the token is kept
    assert _get(info, "/tinyai/ping")[0] == 401
    assert _get(info, "/tinyai/status", token="wrong")[0] == 401
    assert _get(info, "/tinyai/status", token=info["token"], origin="http://evil.example")[0] == 403
    status, body = _get(info, "/tinyai/ping", token=info["token"])
    assert status == 200 and str(info["pid"]).encode() in body
    assert liveness.responds(info)


@pytest.mark.model
def test_clients_work_over_tcp_end_to_end(client, expected, capsys):
    assert client.ask(PROMPT)[0] == expected(PROMPT)
    info = runtime.read_info()
    assert "socket" not in info
    assert client.history("default")[-1].content == expected(PROMPT)
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"host:     pid {info['pid']}" in out and "loopback TCP" in out
    assert cli.main(["serve", "--stop"]) == 0
    assert liveness.wait_gone(info, timeout=30)

