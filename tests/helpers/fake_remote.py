"""A small OpenAI-compatible server that records every request it gets: for tests of which
requests reach a remote (the rule under test is ours; no model is needed behind it)."""

from __future__ import annotations

import http.server
import json
import threading

ANSWER = ("Answered", " by", " the", " remote.")


class CountingRemote:
    """Serves one model (``model``) answering every chat with ``answer`` (a sequence of text
    deltas); ``requests`` lists each request as "METHOD /path", ``keys`` the Authorization
    header of each chat request, ``bodies`` each chat request's JSON body."""

    def __init__(self, model: str = "m1", answer=ANSWER):
        self.model = model
        self.deltas = tuple(answer)
        self.requests: list[str] = []
        self.keys: list[str] = []
        self.bodies: list[dict] = []
        remote = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, data):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                remote.requests.append(f"GET {self.path}")
                if self.path.rstrip("/") != "/v1/models":
                    return self._send(404, {"error": "not found"})
                self._send(200, {"object": "list", "data": [{"id": remote.model, "object": "model"}]})

            def do_POST(self):
                remote.requests.append(f"POST {self.path}")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "not found"})
                remote.keys.append(self.headers.get("Authorization", ""))
                remote.bodies.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for i, word in enumerate(remote.deltas):
                    last = i == len(remote.deltas) - 1
                    delta = {"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": "stop" if last else None}]}
                    self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
                usage = {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": len(remote.deltas)}}
                self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def answer(self) -> str:
        return "".join(self.deltas)

    def chats(self) -> int:
        return sum(1 for r in self.requests if r.endswith("/chat/completions"))

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
