"""A running host uses the remotes each request's client configured (not the ones it started
with), and reads keys only from its own environment, saying so when that is the problem."""

from __future__ import annotations

import pytest
from helpers.fake_remote import CountingRemote

from jupyter_tinyai import cli
from jupyter_tinyai.errors import RemoteError

KEY_ENV = "TINYAI_TEST_LATE_KEY"
KEY = "late-key-0b7c2e"  # a test secret: it must never show up in a message


@pytest.fixture
def remote():
    server = CountingRemote("m1")
    yield server
    server.stop()


def test_a_remote_configured_after_the_host_started_is_found(client, remote):
    first = client.host_info()  # a host started with no remote configured
    client.settings.remotes = {"lab": {"url": remote.url}}
    text, stats = client.ask("Hello", model="lab:m1", conversation="late-remote")
    assert text == remote.answer and stats.model == "lab:m1"
    assert client.host_info()["pid"] == first["pid"]  # the same host, not a restarted one


def test_a_key_set_only_where_the_client_runs_says_to_restart_the_host(client, remote, monkeypatch, capsys):
    client.host_info()  # started before the variable is set
    monkeypatch.setenv(KEY_ENV, KEY)
    client.settings.remotes = {"lab": {"url": remote.url, "api_key_env": KEY_ENV}}
    with pytest.raises(RemoteError) as caught:
        client.ask("Hello", model="lab:m1", conversation="late-key")
    message = str(caught.value)
    assert KEY_ENV in message and "jupyter tinyai serve --stop" in message and KEY not in message
    assert remote.chats() == 0
    assert cli.main(["serve", "--stop"]) == 0
    capsys.readouterr()
    text, _ = client.ask("Hello", model="lab:m1", conversation="late-key-2")  # a new host has the key
    assert text == remote.answer and remote.keys == [f"Bearer {KEY}"]
