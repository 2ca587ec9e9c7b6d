"""The host's HTTP plumbing: one :class:`Handler` per connection, authenticating it (the
bearer token on a TCP port; never a web page), reading its JSON body, answering JSON, and
streaming a queued request as Server-Sent Events with keep-alives while a client that
leaves cancels it. The endpoints themselves are in :mod:`.routes` and :mod:`.compat`.
"""

from __future__ import annotations

import hmac
import json
import select
import socket
import threading
import time
from contextlib import contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from .._version import __version__
from ..errors import (
    BackendUnavailable,
    EmptyPrompt,
    Forbidden,
    GenerationError,
    InsufficientMemory,
    InvalidRequest,
    ModelFileError,
    ModelNotFound,
    NoEndpoint,
    PromptTooLong,
    RemoteError,
    TinyAIError,
    Unauthorized,
)
from ..scheduler import Cancelled, Request
from ..watch import every
from . import hostlog, runtime
from .protocol import BadRequest, encode_event, error_body, parse_json

if TYPE_CHECKING:  # pragma: no cover
    from .state import HostState

MAX_BODY = 16 * 1024 * 1024
REQUEST_TIMEOUT = 10.0  # seconds to send a request's line, headers and body; then it is dropped
KEEPALIVE_S = 1.0  # a stream silent this long (queued, loading, reading a prompt) gets a comment line

#: the HTTP status of an error a request ends with, first match (other errors: 500). The
#: user's input errors are 4xx; a remote that fails is a bad gateway; a model that does not
#: fit, or a backend missing here, leaves the service unavailable.
ERROR_STATUS = (
    (ModelNotFound, 404),
    ((InvalidRequest, EmptyPrompt, ModelFileError, PromptTooLong), 400),
    (RemoteError, 502),
    ((InsufficientMemory, BackendUnavailable), 503),
)


def emit_chunks(emit, stream) -> None:
    """Send a generation's chunks as "chunk" events, then "done"; the stream is closed even
    when the client leaves midway (which stops the model)."""
    try:
        for chunk in stream:
            emit("chunk", chunk.to_dict())
    finally:
        stream.close()
    emit("done", {})


def http_status(error: TinyAIError) -> int:
    return next((status for kinds, status in ERROR_STATUS if isinstance(error, kinds)), 500)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"tinyai-host/{__version__}"
    timeout = REQUEST_TIMEOUT  # a half-sent request does not hold a thread; streams lift it

    @property
    def state(self) -> HostState:
        return self.server.state

    @property
    def routes(self) -> dict:
        """(method, path) -> handle(handler): the endpoints of the listener this came in on."""
        return self.server.routes

    def log_message(self, format, *args):  # quiet: the log is for failures
        pass

    def address_string(self):
        return "local"

    # -- plumbing -----------------------------------------------------------------------

    def _authorized(self) -> bool:
        token = self.server.token
        if token is None:
            return True
        if self.headers.get("Origin"):  # a web page: never
            self.reply(403, error_body(Forbidden("requests from web pages are refused.")))
            return False
        given = self.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), token):
            return True
        self.reply(401, error_body(Unauthorized("missing or wrong bearer token (see `jupyter tinyai serve`).")))
        return False

    def body(self) -> dict:
        """The request's JSON object (a :class:`BadRequest` when it is not one)."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise BadRequest("the Content-Length header is not a number.") from None
        if length < 0 or length > MAX_BODY:
            raise BadRequest(f"the request body must be at most {MAX_BODY} bytes.")
        return parse_json(self.rfile.read(length) if length else b"")

    def reply(self, code: int, data) -> None:
        """Answer with ``data`` as JSON."""
        body = json.dumps(data).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.connection.settimeout(None)  # the request is read: an answer takes what it takes
        self._send_lock = threading.Lock()
        self._sent_at = time.monotonic()

    def send(self, data: bytes) -> None:
        """Write ``data`` on a started stream."""
        with self._send_lock:
            self.wfile.write(data)
            self._sent_at = time.monotonic()

    def _keep_alive(self) -> None:
        """A comment line on a silent stream, so clients tell a working host from a hung one
        (c.TinyAI.host_timeout); SSE readers skip it."""
        if time.monotonic() - self._sent_at >= KEEPALIVE_S:
            self._try_send(b": keep-alive\n\n")

    def _route(self, method: str):
        path = urlparse(self.path).path.rstrip("/")
        return self.routes.get((method, path))

    def _dispatch(self, method: str) -> None:
        route = self._route(method)
        if route is None:
            self.reply(404, error_body(NoEndpoint(f"no endpoint {method} {urlparse(self.path).path}.")))
            return
        if not self._authorized():
            return
        try:
            route(self)
        except TinyAIError as exc:  # BadRequest: 400
            self.reply(http_status(exc), error_body(exc))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    # -- a streamed request through the queue ------------------------------------------------

    def stream(self, req: Request, body_fn, event=encode_event, queued: bool = True) -> None:
        """Run ``body_fn(emit)`` in ``req``'s turn, streaming what it emits as SSE; a
        client that leaves or cancels stops it. "done" is sent after the turn, so a client
        that has it finds the host idle. ``queued=False``: at once, beside the queue (a
        completion, which has a lane of its own); it still counts as activity for the idle timers."""
        self._start_stream()
        finished = []

        def emit(name, data):
            if name == "done":
                finished.append(data)
            else:
                self.send(event(name, data))

        scheduler = self.state.scheduler
        turn = scheduler.turn(req, lambda n: self.send(event("queue", {"position": n}))) if queued else nullcontext()
        try:
            with self.watching(req.cancel, tick=self._keep_alive), turn:
                body_fn(emit)
            if not queued:
                scheduler.touch()
            for data in finished:
                self.send(event("done", data))
        except Cancelled:
            self._try_send(event("done", {"cancelled": True}))
        except TinyAIError as exc:  # BadRequest too
            self._try_send(event("error", exc.to_dict()))
        except (BrokenPipeError, ConnectionResetError):
            req.cancel.set()
        except Exception as exc:  # noqa: BLE001 - a bug or a backend failure: report it, keep serving
            hostlog.log.error("a request failed", exc_info=True)
            self._try_send(event("error", GenerationError(f"the host failed: {exc!r} (see {runtime.log_file()}).").to_dict()))
        finally:
            self.state.forget(req)

    def follow(self, events, after: int) -> None:
        """Stream ``events``' snapshots (a :class:`~jupyter_tinyai.modelstate.ModelEvents`)
        past ``after`` as "model" events, a keep-alive each silent second, until the client
        leaves or the host stops."""
        self._start_stream()
        try:
            while not self.state.stop.is_set():
                snap = events.wait(after, KEEPALIVE_S)
                if snap is None:
                    self.send(b": keep-alive\n\n")
                    continue
                after = snap["seq"]
                self.send(encode_event("model", snap))
        except OSError:  # the client left
            pass

    @contextmanager
    def watching(self, cancel: threading.Event, tick=None):
        """While in this block, a client that closes its end of the connection sets
        ``cancel``; ``tick()`` (if given) is called every 50 ms meanwhile."""
        watcher = DisconnectWatcher(self.connection, cancel, tick)
        try:
            yield
        finally:
            watcher.stop()

    def _try_send(self, data: bytes) -> None:
        try:
            self.send(data)
        except OSError:
            pass


class DisconnectWatcher:
    """Sets ``cancel`` as soon as the client closes its end of the connection; calls
    ``tick()`` (if given) every 50 ms meanwhile."""

    def __init__(self, conn: socket.socket, cancel: threading.Event, tick=None):
        self.conn, self.cancel, self.done, self.tick = conn, cancel, threading.Event(), tick
        every(0.05, self._check, until=self.done, name="tinyai-disconnect")

    def _check(self) -> bool:
        try:
            readable, _, _ = select.select([self.conn], [], [], 0)
            # readable with no bytes: the client closed its end (bytes we do not read are left)
            if readable and not self.conn.recv(1, socket.MSG_PEEK):
                self.cancel.set()
                return True
        except (OSError, ValueError):
            self.cancel.set()
            return True
        if self.tick is not None:
            self.tick()
        return False

    def stop(self) -> None:
        self.done.set()
