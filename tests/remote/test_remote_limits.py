"""Limits we keep ourselves, whatever a remote does: answers capped at max_tokens, one
timeout per wait (not one per retry), no second timeout after a failure, the key masked
only where the server echoed it, an exit status that says the answer broke off.

The misbehaving servers are scripted (tests/remote/scripted.py); the 401 test uses the
real llama_cpp.server of the session."""

from __future__ import annotations

import json
import os

import pytest

from jupyter_tinyai import cli
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import RemoteError
from jupyter_tinyai.status import status_lines

from .conftest import API_KEY, KEY_ENV
from .scripted import Scripted

pytestmark = pytest.mark.timeout(120)


def _settings(url, **entry):
    return load_settings(host="inprocess", remotes={"lab": {"url": url, "api_key_env": KEY_ENV, **entry}})


def test_a_remote_that_streams_forever_is_cut_at_max_tokens():
    with Scripted(chat="forever") as server:
        engine = Engine(_settings(server.url, timeout=5))
        chunks = list(engine.chat("Tell me a story.", model="lab:scripted", conversation="forever", max_tokens=20))
        texts = [c.text for c in chunks if c.text]
        assert len(texts) == 20
        assert chunks[-1].stats.finish_reason == "length"
        assert server.client_left.wait(30), "the stream is closed: the server sees the client go"
        assert engine.history("forever")[-1].content == "".join(texts)


def test_a_remote_that_streams_empty_events_forever_is_cut_too():
    with Scripted(chat="empty") as server:
        engine = Engine(_settings(server.url, timeout=5))
        chunks = list(engine.chat("Tell me a story.", model="lab:scripted", conversation="empty", max_tokens=20))
        assert not any(c.text for c in chunks) and chunks[-1].stats.finish_reason == "length"
        assert server.client_left.wait(30)


def test_a_busy_server_times_out_once_not_once_per_tokenize_probe():
    """Every POST hangs (a server busy with another request): loading fails after the first
    probe's timeout, instead of trying the next tokenize endpoint with the same wait."""
    with Scripted(chat="hang", tokenize="hang") as server:
        engine = Engine(_settings(server.url, timeout=0.5))
        with pytest.raises(RemoteError, match=r"'lab'.* did not answer within 0\.5 s"):
            engine.load("lab:scripted")
        assert server.posts("tokenize") == 1
        assert server.posts("chat") == 0


def test_after_a_stall_the_server_is_not_asked_again_for_token_counts():
    with Scripted(chat="freeze", tokenize=True, freeze_after_chat=True) as server:
        engine = Engine(_settings(server.url, timeout=0.5))
        engine.load("lab:scripted")
        chunks = list(engine.chat("Tell me a story.", model="lab:scripted", conversation="stall"))
        assert "".join(c.text for c in chunks) == "Once upon"
        assert any("no data from the server for 0.5 s" in (c.notice or "") for c in chunks)
        stats = chunks[-1].stats
        assert stats.finish_reason == "error" and stats.prompt_tokens > 0 and stats.generated_tokens == 2
        assert server.after("/chat/completions") == []  # the prompt's count was kept, the answer's estimated


def test_a_server_that_trickles_bytes_times_out_between_events():
    """Bytes keep coming, but never a whole event: the wait for the next event is bounded."""
    with Scripted(chat="trickle") as server:
        engine = Engine(_settings(server.url, timeout=0.5))
        with pytest.raises(RemoteError, match=r"no data from the server for 0\.5 s"):
            list(engine.chat("Hello", model="lab:scripted", conversation="trickle"))
        assert server.client_left.wait(30)


@pytest.mark.model
def test_a_short_key_that_is_a_common_word_masks_nothing(server, monkeypatch):
    """A wrong key "key": the 401 message says "API key" and names the variable, intact."""
    monkeypatch.setenv(KEY_ENV, "key")
    with pytest.raises(RemoteError) as info:
        Engine(_settings(server.url)).load("lab:smollm2")
    message = str(info.value)
    assert "wrong or missing API key" in message and f"check the key in the environment variable {KEY_ENV}" in message
    assert "***" not in message


@pytest.mark.parametrize("key", ["error", "model"])
def test_a_common_word_key_leaves_the_servers_message_readable(monkeypatch, key):
    monkeypatch.setenv(KEY_ENV, key)
    body = {"error": {"message": "model scripted failed with an internal error"}}
    with Scripted(chat=(500, body)) as server:
        engine = Engine(_settings(server.url, timeout=5))
        with pytest.raises(RemoteError) as info:
            list(engine.chat("Hello", model="lab:scripted", conversation="word"))
    message = str(info.value)
    assert "model scripted failed with an internal error" in message and "***" not in message


def test_a_long_key_echoed_by_the_server_is_masked(monkeypatch):
    secret = "sk-tinyai-echo-0123456789"
    monkeypatch.setenv(KEY_ENV, secret)
    body = {"error": {"message": f"invalid token {secret} for this model"}}
    with Scripted(chat=(400, body)) as server:
        engine = Engine(_settings(server.url, timeout=5))
        with pytest.raises(RemoteError) as info:
            list(engine.chat("Hello", model="lab:scripted", conversation="echo"))
    message = str(info.value)
    assert "invalid token *** for this model" in message and secret not in message


def _write_config(remotes):
    path = os.path.join(os.environ["JUPYTER_CONFIG_DIR"], "jupyter_tinyai_config.json")
    with open(path, "w") as f:
        json.dump({"TinyAI": {"remotes": remotes}}, f)


def test_an_error_line_mid_answer_ends_it_with_the_servers_message_and_keeps_the_text(monkeypatch):
    key = "sk-scripted-0123456789"
    monkeypatch.setenv(KEY_ENV, key)
    with Scripted(chat="error", error_text=f"(key {key})") as server:
        engine = Engine(_settings(server.url, timeout=5))
        chunks = list(engine.chat("Tell me a story.", model="lab:scripted", conversation="error"))
    assert "".join(c.text for c in chunks) == "Once upon"
    assert chunks[-1].stats.finish_reason == "error"
    (notice,) = [c.notice for c in chunks if c.notice and "estimated" not in c.notice]
    assert "'lab'" in notice and "the server reported an error mid-answer" in notice
    assert "decode failed (key ***)" in notice and key not in notice
    assert "The partial answer above is kept." in notice


def test_cli_ask_exits_1_when_the_remote_dies_mid_answer(capsys):
    with Scripted(chat="die") as server:
        _write_config({"lab": {"url": server.url, "timeout": 5}})
        code = cli.main(["ask", "--in-process", "-m", "lab:scripted", "Tell me a story."])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.strip() == "Once upon"  # the partial answer is kept
    assert "'lab'" in err and "closed the connection before the end of the answer" in err and "partial answer" in err


@pytest.mark.model
def test_status_of_a_remote_model_names_the_remote(remote_engine, server):
    remote_engine.load("lab:smollm2")
    lines = status_lines(remote_engine.status())
    text = "\n".join(lines)
    assert f"model:    lab:smollm2 (on remote 'lab': {server.url})" in lines
    assert "remote ," not in text and "0 B model" not in text
    assert API_KEY not in text
