"""A Hugging Face Hub stand-in on loopback, for pull tests (point HF_ENDPOINT at ``hub.url``).

It answers what huggingface_hub asks (read from its source): the repo listing
``GET /api/models/{repo}[/revision/{rev}]?blobs=True`` and the file URL
``HEAD|GET /{repo}/resolve/{rev}/{file}`` with ETag, X-Repo-Commit, X-Linked-Size,
X-Linked-Etag (LFS files), Content-Length and Range requests. Switches make it fail the
way the real one does: drop the connection midway, pause midway (so a test can act while
a download is in flight), answer 401/403/404 or "gated", corrupt the body, ignore Range.
Every request is recorded (path, Range, bytes of body sent, Authorization seen).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse


@dataclass
class Repo:
    repo_id: str
    files: dict  # name -> bytes, or a path on disk
    commit: str = ""
    gated: bool = False

    def __post_init__(self):
        self.commit = self.commit or hashlib.sha1(self.repo_id.encode()).hexdigest()
        self._meta = {}
        self._data = {}

    def data(self, name: str) -> bytes:
        value = self.files[name]
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if name not in self._data:
            with open(value, "rb") as handle:
                self._data[name] = handle.read()
        return self._data[name]

    def meta(self, name: str) -> dict:
        """size, sha256 (LFS: every .gguf) and the git blob id."""
        if name not in self._meta:
            data = self.data(name)
            lfs = name.endswith(".gguf")
            self._meta[name] = {
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest() if lfs else "",
                "blob_id": hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest(),
                "lfs": lfs,
            }
        return self._meta[name]


@dataclass
class Request:
    method: str
    path: str
    range: str = ""
    sent: int = 0  # body bytes written
    authorization: str = ""
    status: int = 0


@dataclass
class Switches:
    """Faults to inject, for the file URLs (resolve) only unless said otherwise."""

    drop_after: int | None = None  # close the connection after this many body bytes...
    drops: int = 0  # ...this many times (then serve normally)
    status_after_drop: int | None = None  # after the drops, answer this status to every GET
    pause_at: int | None = None  # stop sending at this byte of the file until `resume` is set
    status: int | None = None  # answer every resolve request with this status
    error_code: str = ""  # X-Error-Code with it ("GatedRepo", "RepoNotFound", "EntryNotFound")
    corrupt: bool = False  # flip a byte of every body
    ignore_range: bool = False  # answer 200 with the whole file to Range requests
    token: str = ""  # require "Authorization: Bearer <token>" (401 otherwise)
    listing_status: int | None = None  # answer the listing with this status
    chunk: int = 64 * 1024


@dataclass
class FakeHub:
    repos: dict = field(default_factory=dict)
    switches: Switches = field(default_factory=Switches)
    requests: list = field(default_factory=list)

    def __post_init__(self):
        self.paused = threading.Event()  # set when a body reached switches.pause_at
        self.resume = threading.Event()
        self._lock = threading.Lock()
        self._server = None

    def add(self, repo_id: str, files: dict, **kwargs) -> Repo:
        repo = Repo(repo_id, files, **kwargs)
        self.repos[repo_id] = repo
        return repo

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def gets(self, name: str | None = None) -> list:
        """GET requests of file bodies (optionally of one file)."""
        return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path
                and (name is None or r.path.endswith("/" + name))]

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.resume.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: FakeHub

    def log_message(self, *args):  # quiet
        pass

    def _record(self) -> Request:
        req = Request(self.command, self.path, self.headers.get("Range", ""), 0, self.headers.get("Authorization", ""))
        with self.hub._lock:
            self.hub.requests.append(req)
        return req

    def _json(self, req: Request, status: int, payload, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        req.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        req = self._record()
        path = unquote(urlparse(self.path).path)
        if path.startswith("/api/models/"):
            return self._listing(req, path[len("/api/models/"):])
        if "/resolve/" in path:
            return self._resolve(req, path)
        self._json(req, 404, {"error": "not found"})

    def _authorized(self, req: Request) -> bool:
        token = self.hub.switches.token
        return not token or req.authorization == f"Bearer {token}"

    def _listing(self, req: Request, rest: str) -> None:
        sw = self.hub.switches
        repo_id = rest.split("/revision/")[0]
        repo = self.hub.repos.get(repo_id)
        if sw.listing_status:
            return self._json(req, sw.listing_status, {"error": "listing refused"})
        if req.authorization and not self._authorized(req):
            return self._json(req, 401, {"error": "Invalid credentials"},
                              {"X-Error-Message": "Invalid credentials in Authorization header"})
        if repo is None or not self._authorized(req):
            # the real Hub answers 401 for a missing (or private) repo to an anonymous caller
            return self._json(req, 401, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        siblings = []
        for name in repo.files:
            meta = repo.meta(name)
            sibling = {"rfilename": name, "size": meta["size"], "blobId": meta["blob_id"]}
            if meta["lfs"]:
                sibling["lfs"] = {"size": meta["size"], "sha256": meta["sha256"], "pointerSize": 134}
            siblings.append(sibling)
        self._json(req, 200, {"id": repo_id, "modelId": repo_id, "sha": repo.commit, "private": False,
                              "gated": "manual" if repo.gated else False, "siblings": siblings})

    def _resolve(self, req: Request, path: str) -> None:
        sw = self.hub.switches
        repo_id, rest = path.lstrip("/").split("/resolve/", 1)
        revision, name = rest.split("/", 1)
        repo = self.hub.repos.get(repo_id)
        if sw.status:
            headers = {"X-Error-Code": sw.error_code} if sw.error_code else {}
            return self._json(req, sw.status, {"error": "refused"}, headers)
        if repo is None:
            return self._json(req, 401, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        if not self._authorized(req):
            if repo.gated:
                return self._json(req, 401, {"error": "gated"}, {"X-Error-Code": "GatedRepo"})
            return self._json(req, 401, {"error": "Invalid credentials"},
                              {"X-Error-Message": "Invalid credentials in Authorization header"})
        if repo.gated and not sw.token:
            return self._json(req, 403, {"error": "gated"}, {"X-Error-Code": "GatedRepo"})
        if name not in repo.files:
            return self._json(req, 404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        if self.command == "GET" and sw.status_after_drop and sw.drops <= 0 and sw.drop_after is not None:
            return self._json(req, sw.status_after_drop, {"error": "unavailable"})
        data = repo.data(name)
        meta = repo.meta(name)
        start = 0
        status = 200
        if req.range and not sw.ignore_range:
            start = int(req.range.split("=")[1].split("-")[0])
            status = 206
        body = data[start:]
        if sw.corrupt and body:
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        req.status = status
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("X-Repo-Commit", repo.commit)
        self.send_header("ETag", f'"{meta["blob_id"]}"')
        if meta["lfs"]:
            self.send_header("X-Linked-Etag", f'"{meta["sha256"]}"')
            self.send_header("X-Linked-Size", str(meta["size"]))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if self.command == "HEAD":
            return
        self._send_body(req, body, start)

    def _send_body(self, req: Request, body: bytes, start: int) -> None:
        sw, hub = self.hub.switches, self.hub
        drop = None
        with hub._lock:
            if sw.drop_after is not None and sw.drops > 0:
                sw.drops -= 1
                drop = sw.drop_after
        pos = 0
        try:
            while pos < len(body):
                end = min(pos + sw.chunk, len(body))
                if drop is not None:
                    end = min(end, drop)
                if sw.pause_at is not None and start + pos < sw.pause_at <= start + end:
                    end = sw.pause_at - start
                self.wfile.write(body[pos:end])
                self.wfile.flush()
                req.sent += end - pos
                pos = end
                if drop is not None and pos >= drop:
                    self._hang_up()
                    return
                if sw.pause_at is not None and start + pos == sw.pause_at and not hub.resume.is_set():
                    hub.paused.set()
                    hub.resume.wait(60)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


