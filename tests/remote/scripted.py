"""A loopback OpenAI-style server that misbehaves on purpose, for the transport under test
(ours, not the model's): what the real server cannot be made to do — stream forever,
freeze, trickle bytes, die mid-answer, echo the key in its errors.

    with Scripted(chat="forever") as server:
        settings = remote_settings(server.url)
        ...
        server.requests   # [(method, path)] in arrival order
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time


def delta(text: str) -> bytes:
    data = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return f"data: {json.dumps(data)}\n\n".encode()


class Scripted:
    """``chat``: what POST /chat/completions does —
    "forever"  stream words until the client goes (``client_left`` is set then);
    "empty"    stream events without text until the client goes;
    "die"      two words, then the connection is cut (no [DONE]);
    "error"    two words, a keep-alive comment, then llama.cpp's ``error: {…}`` line (its
               message echoes ``error_text``), and nothing more until the client goes;
    "freeze"   two words, then nothing (until the server stops);
    "trickle"  the response head, then one byte every 0.05 s, never a whole event;
    "hang"     nothing at all: no response head;
    (status, body) answer that status with that JSON body.
    ``tokenize``: True answers /extras/tokenize, "hang" never answers any tokenize endpoint
    (a busy server), False is a 404.
    After the first chat request the server is ``frozen``: with ``freeze_after_chat``,
    every later request hangs too (a server that locked up mid-answer)."""

    def __init__(self, chat="forever", tokenize=False, freeze_after_chat=False, model="scripted", error_text=""):
        self.chat, self.tokenize, self.freeze_after_chat, self.model = chat, tokenize, freeze_after_chat, model
        self.error_text = error_text
        self.requests: list[tuple[str, str]] = []
        self.client_left = threading.Event()
        self.frozen = threading.Event()
        self.stopping = threading.Event()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def posts(self, part: str) -> int:
        return sum(1 for method, path in self.requests if method == "POST" and part in path)

    def after(self, part: str) -> list[tuple[str, str]]:
        """The requests that came after the first one whose path has ``part``."""
        paths = [path for _, path in self.requests]
        first = next((i for i, path in enumerate(paths) if part in path), len(paths))
        return self.requests[first + 1:]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def _hold(self) -> None:
        self.stopping.wait(60)

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, data) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                server.requests.append(("GET", self.path))
                if server.frozen.is_set():
                    return server._hold()
                self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})

            def do_POST(self):
                server.requests.append(("POST", self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if server.frozen.is_set():
                    return server._hold()
                if self.path.endswith("/chat/completions"):
                    if server.freeze_after_chat:
                        server.frozen.set()
                    return self._chat()
                if "tokenize" in self.path and server.tokenize == "hang":
                    return server._hold()
                if self.path.endswith("/extras/tokenize") and server.tokenize:
                    return self._send(200, {"tokens": list(range(max(1, len(body) // 4)))})
                self._send(404, {"error": "not found"})

            def _chat(self):
                if isinstance(server.chat, tuple):
                    return self._send(*server.chat)
                if server.chat == "hang":
                    return server._hold()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.flush()
                if server.chat == "trickle":
                    try:
                        while not server.stopping.wait(0.05):
                            self.wfile.write(b"d")  # never a whole line: "data: ..." is never finished
                            self.wfile.flush()
                    except OSError:
                        server.client_left.set()
                    return
                if server.chat == "empty":
                    return self._forever(b'data: {"choices": [{"index": 0, "delta": {}}]}\n\n')
                self.wfile.write(delta("Once") + delta(" upon"))
                self.wfile.flush()
                if server.chat == "die":
                    self.connection.shutdown(socket.SHUT_RDWR)  # the server process is gone
                    self.close_connection = True
                    return
                if server.chat == "freeze":
                    return server._hold()
                if server.chat == "error":
                    error = {"code": 500, "message": f"decode failed {server.error_text}", "type": "server_error"}
                    self.wfile.write(b": ping\n\nerror: " + json.dumps(error).encode() + b"\n\n")
                    self.wfile.flush()
                    return server._hold()
                self._forever(delta(" and"))

            def _forever(self, event: bytes):
                try:
                    while not server.stopping.is_set():
                        self.wfile.write(event)
                        self.wfile.flush()
                        time.sleep(0.001)
                except OSError:
                    server.client_left.set()

        return Handler
