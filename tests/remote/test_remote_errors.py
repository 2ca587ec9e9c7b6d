"""Clear errors from a remote: wrong key, unknown model, unreachable, timeouts, a server
killed mid-answer. Each message names the remote and what to check, never the key."""

from __future__ import annotations

import socket
import threading

import pytest

from jupyter_tinyai import models
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import ModelNotFound, RemoteError, TinyAIError
from jupyter_tinyai.models.spec import ModelSpec

from .conftest import API_KEY, KEY_ENV, free_port, start_server

pytestmark = pytest.mark.timeout(300)


def _settings(url, **entry):
    return load_settings(host="inprocess", remotes={"lab": {"url": url, "api_key_env": KEY_ENV, **entry}})


@pytest.mark.model
def test_wrong_key_gives_401_naming_the_variable(server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    with pytest.raises(RemoteError) as info:
        Engine(_settings(server.url)).load("lab:smollm2")
    message = str(info.value)
    assert "'lab'" in message and "401" in message and KEY_ENV in message
    assert "not-the-key" not in message and API_KEY not in message


@pytest.mark.model
def test_missing_key_variable_says_to_set_it(server, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(RemoteError, match=f"{KEY_ENV} is not set"):
        models.resolve("lab:smollm2", _settings(server.url))


@pytest.mark.model
def test_unknown_model_lists_what_the_server_has(remote_settings):
    with pytest.raises(ModelNotFound) as info:
        Engine(remote_settings).load("lab:qwen2.5-7b")
    message = str(info.value)
    assert "'lab'" in message and "qwen2.5-7b" in message and "smollm2" in message


@pytest.mark.model
def test_backend_refuses_a_model_the_server_does_not_serve(remote_settings):
    """A spec built elsewhere (e.g. from an old listing) is checked again when loading:
    llama_cpp.server would otherwise answer with its default model."""
    from jupyter_tinyai.backends import backend_class
    from jupyter_tinyai.backends.base import LoadSettings
    from jupyter_tinyai.remotes.config import Remote

    remote = Remote.from_config("lab", remote_settings.remotes["lab"])
    spec = ModelSpec(id="lab:gone", name="gone", backend="remote", format="remote", path=remote.url,
                     source="lab", extra=remote.to_extra())
    with pytest.raises(ModelNotFound, match="no model 'gone'"):
        backend_class("remote")(spec, LoadSettings()).load()


def test_unreachable_remote(monkeypatch):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    settings = _settings(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(RemoteError) as info:
        Engine(settings).load("lab:smollm2")
    message = str(info.value)
    assert "cannot reach remote 'lab'" in message and "connection refused" in message
    assert "c.TinyAI.remotes['lab']" in message and API_KEY not in message


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


def test_timeout_names_the_remote_and_the_setting(silent_server):
    with pytest.raises(RemoteError) as info:
        models.resolve("lab:smollm2", _settings(silent_server, timeout=0.5))
    message = str(info.value)
    assert "'lab'" in message and "did not answer within 0.5 s" in message and "'timeout'" in message


def test_config_with_a_key_in_it_is_refused(monkeypatch):
    settings = load_settings(host="inprocess", remotes={"lab": {"url": "http://127.0.0.1:9/v1", "api_key": "sk-secret"}})
    with pytest.raises(RemoteError, match="api_key_env") as info:
        models.resolve("lab:smollm2", settings)
    assert "sk-secret" not in str(info.value)
    listed = models.list_models(settings)
    assert "sk-secret" not in repr([m.to_dict() for m in listed])


@pytest.mark.model
def test_server_killed_mid_answer_keeps_the_partial_text(model_path, tmp_path, monkeypatch):
    own = start_server(model_path, tmp_path)
    try:
        monkeypatch.setenv(KEY_ENV, API_KEY)
        engine = Engine(_settings(own.url, n_ctx=2048))
        parts, notices, stats = [], [], None
        for chunk in engine.chat("Write a long story about a dragon who learns to cook.", model="lab:smollm2",
                                 conversation="killed", temperature=0, max_tokens=300):
            parts.append(chunk.text)
            if chunk.notice:
                notices.append(chunk.notice)
            stats = chunk.stats or stats
            if sum(1 for p in parts if p) == 2 and own.process.poll() is None:
                own.process.kill()
                own.process.wait(15)
        partial = "".join(parts)
        assert partial.strip()
        assert stats.finish_reason == "error" and stats.backend == "remote"
        assert len(notices) == 1 and "'lab'" in notices[0] and "partial answer" in notices[0]
        assert engine.history("killed")[-1].content == partial
        # the next request says the server is gone
        with pytest.raises(TinyAIError, match="cannot reach remote 'lab'"):
            engine.ask("Hello", model="lab:smollm2", conversation="after")
    finally:
        own.stop()


@pytest.fixture
def stalling_server():
    """An OpenAI-style server that sends two words of an answer and then nothing: the
    transport under test is ours, not the model (the real server cannot be made to stall)."""
    import http.server
    import json as _json

    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status, body: bytes, kind="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._send(200, _json.dumps({"object": "list", "data": [{"id": "staller", "object": "model"}]}).encode())

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self.path.endswith("/chat/completions"):
                return self._send(404, b'{"error": "not found"}')
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in ("Once", " upon"):
                delta = {"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
                self.wfile.write(f"data: {_json.dumps(delta)}\n\n".encode())
                self.wfile.flush()
            release.wait(30)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_a_stall_mid_answer_times_out_and_keeps_the_partial_text(stalling_server):
    engine = Engine(_settings(stalling_server, timeout=0.5))
    chunks = list(engine.chat("Tell me a story.", model="lab:staller", conversation="stall"))
    assert "".join(c.text for c in chunks) == "Once upon"
    notices = [c.notice for c in chunks if c.notice]
    assert any("'lab'" in n and "no data from the server for 0.5 s" in n and "partial answer" in n for n in notices)
    assert any("estimated" in n for n in notices)  # this server has no tokenize endpoint
    assert chunks[-1].stats.finish_reason == "error"
    assert engine.history("stall")[-1].content == "Once upon"
