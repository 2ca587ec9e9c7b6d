"""Chat history survives a server restart (with a model host that forgot everything) and a
model switch, against real Jupyter servers and the real bundled model."""

from __future__ import annotations

import json
import os
import stat

import pytest
import tornado.httpserver
import tornado.testing
from jupyter_core.paths import jupyter_data_dir
from jupyter_server.serverapp import ServerApp
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_tinyai.models import bundled_path

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]

NOTEBOOK = "notes/restart.ipynb"
FIRST = "My favourite colour is blue. Remember it."


async def _turn(ws, wire, request_id, prompt, conversation, **extra):
    ws.write_message(wire.chat(request_id, prompt, conversation=conversation, notebook=NOTEBOOK, max_tokens=12, **extra))
    messages = await wire.until(ws, request_id)
    assert messages[-1]["type"] == "done", messages[-1]
    return messages


async def test_history_survives_a_server_and_host_restart(
    tinyai, jp_serverapp, jp_configurable_serverapp, jp_fetch, jp_ws_fetch, jp_base_url, wire
):
    ws = await jp_ws_fetch("tinyai", "chat")
    first = await _turn(ws, wire, "first", FIRST, "c-restart")
    ws.close()
    before = json.loads((await jp_fetch("tinyai", "conversations", "c-restart")).body)

    root = os.path.join(jupyter_data_dir(), "tinyai", "history")
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(root, "c-restart.json")).st_mode) == 0o600
    assert os.listdir(root) == ["c-restart.json"]  # no temporary files left behind

    # the Jupyter server restarts, and the model host with it: the engine forgets the turns
    await jp_serverapp._cleanup()
    ServerApp.clear_instance()
    tinyai.reset("lab:c-restart")
    sock, port = tornado.testing.bind_unused_port()
    app = jp_configurable_serverapp(http_port=port)
    server = tornado.httpserver.HTTPServer(app.web_app)
    server.add_socket(sock)
    headers = {"Authorization": f"token {app.identity_provider.token}"}
    base = f"127.0.0.1:{port}{jp_base_url}tinyai"
    try:
        client = AsyncHTTPClient()
        after = json.loads((await client.fetch(f"http://{base}/conversations/c-restart", headers=headers)).body)
        assert after == before
        listed = json.loads((await client.fetch(f"http://{base}/conversations?notebook=notes%2Frestart.ipynb", headers=headers)).body)
        assert [c["id"] for c in listed["conversations"]] == ["c-restart"]

        ws = await websocket_connect(HTTPRequest(f"ws://{base}/chat", headers=headers, connect_timeout=30))
        second = await _turn(ws, wire, "second", "What is my favourite colour?", "c-restart")
        fresh = await _turn(ws, wire, "fresh", "What is my favourite colour?", "c-fresh")
        ws.close()

        # the engine's turns were rebuilt from the saved history before the follow-up
        history = tinyai.history("lab:c-restart")
        assert [m.role for m in history] == ["user", "assistant"] * 2
        assert history[0].content == FIRST and history[1].content == first[-1]["text"]
        assert second[-1]["stats"]["prompt_tokens"] > fresh[-1]["stats"]["prompt_tokens"]
        saved = json.loads((await client.fetch(f"http://{base}/conversations/c-restart", headers=headers)).body)
        assert [m["content"] for m in saved["messages"]] == [FIRST, first[-1]["text"], "What is my favourite colour?", second[-1]["text"]]
    finally:
        server.stop()


async def test_history_survives_a_model_switch(tinyai, tmp_path, jp_fetch, jp_ws_fetch, wire):
    other = tmp_path / "other-model.gguf"  # the same weights under another name: another model
    other.symlink_to(bundled_path())
    ws = await jp_ws_fetch("tinyai", "chat")
    first = await _turn(ws, wire, "one", FIRST, "c-switch")
    loaded = await jp_fetch("tinyai", "models", "load", method="POST", body=json.dumps({"model": str(other)}))
    other_id = json.loads(loaded.body)["model"]["id"]
    assert other_id != first[0]["model"] and tinyai.model.id == other_id

    # the sidebar sends the picked model with each message
    second = await _turn(ws, wire, "two", "What is my favourite colour?", "c-switch", model=str(other))
    assert second[0] == {"type": "start", "id": "two", "conversation": "c-switch", "model": other_id}
    ws.close()
    saved = json.loads((await jp_fetch("tinyai", "conversations", "c-switch")).body)
    assert len(saved["messages"]) == 4 and saved["model"] == other_id
    assert saved["messages"][1]["stats"]["model"] == first[0]["model"]
    assert [m.content for m in tinyai.history("lab:c-switch")][:2] == [FIRST, first[-1]["text"]]
    tinyai.load()  # back to the bundled model for the other tests
