"""A remote that sends reasoning apart (llama.cpp's server and vLLM: ``reasoning_content``;
Ollama and gpt-oss on vLLM: ``reasoning``) or inline as <think> in the content: either way it
reaches the client as Chunk.reasoning, and c.TinyAI.thinking = False asks the server's chat
template not to reason. A small scripted server: its transport is what is under test."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine

DELTAS = {
    "reasoning_content": [{"reasoning_content": "Two plus "}, {"reasoning_content": "two."}, {"content": "4"}],
    "reasoning": [{"reasoning": "Two plus "}, {"reasoning": "two."}, {"content": "4"}],
    "inline": [{"content": "<think>Two plus "}, {"content": "two.</thi"}, {"content": "nk>\n\n4"}],
}


class ReasoningRemote:
    def __init__(self, style: str):
        self.bodies: list[dict] = []
        remote = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": "m1", "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                remote.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for delta in DELTAS[style]:
                    event = {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n')
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.mark.parametrize("style", list(DELTAS))
def test_remote_reasoning_is_chunk_reasoning_and_not_history(style):
    remote = ReasoningRemote(style)
    try:
        engine = Engine(load_settings(host="inprocess", remotes={"lab": {"url": remote.url}}))
        chunks = list(engine.chat("What is 2 + 2?", model="lab:m1", conversation="c"))
        assert "".join(c.reasoning for c in chunks) == "Two plus two."
        assert "".join(c.text for c in chunks) == "4"
        assert engine.history("c")[-1].content == "4"
        assert "chat_template_kwargs" not in remote.bodies[-1]  # thinking is on by default: nothing sent
        engine.settings.thinking = False
        list(engine.chat("And 3 + 3?", model="lab:m1", conversation="c"))
        body = remote.bodies[-1]
        assert body["chat_template_kwargs"] == {"enable_thinking": False}
        assert all("Two plus" not in m["content"] for m in body["messages"])  # never sent back
    finally:
        remote.httpd.shutdown()
        remote.httpd.server_close()
