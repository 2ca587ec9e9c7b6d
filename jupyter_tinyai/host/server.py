"""The host's HTTP server: our endpoints and OpenAI-compatible ones, over a Unix socket
(and, with ``serve --port``, on 127.0.0.1 with a bearer token).

    GET  /tinyai/ping                 {"pid", "version"}
    GET  /tinyai/status               the engine's status plus a "host" section
    GET  /tinyai/history?conversation=ID ; POST /tinyai/history {"conversation", "messages"}
    POST /tinyai/count_tokens {"text"}
    POST /tinyai/chat                 SSE: queue, progress, chunk…, done | error
    POST /tinyai/load                 SSE: queue, progress…, done {"model": spec} | error
    POST /tinyai/unload | /tinyai/reset {"conversation"} | /tinyai/cancel {"id"}
    POST /tinyai/listen {"port"}      also listen on 127.0.0.1:port; answers the token
    POST /tinyai/shutdown
    GET  /v1/models ; POST /v1/chat/completions (stream true or false)

Requests that use the model go through one :class:`Scheduler`: one at a time, in order.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import select
import socket
import socketserver
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from .. import models
from .._version import __version__
from ..choice import settings_body
from ..engine import Engine
from ..errors import (
    BackendUnavailable,
    EmptyPrompt,
    GenerationError,
    InsufficientMemory,
    InvalidRequest,
    ModelFileError,
    ModelNotFound,
    PromptTooLong,
    RemoteError,
    TinyAIError,
)
from ..types import Message
from ..validation import chat_request, check_settings, field
from . import lifecycle
from .compat import handle_v1_chat, handle_v1_models
from .protocol import (
    LOAD_SETTINGS,
    BadRequest,
    encode_event,
    error_body,
    parse_json,
)
from ..scheduler import Cancelled, Request, Scheduler

MAX_BODY = 16 * 1024 * 1024
REQUEST_TIMEOUT = 10.0  # seconds to send a request's line, headers and body; then it is dropped
KEEPALIVE_S = 1.0  # a stream silent this long (queued, loading, reading a prompt) gets a comment line
FAULT_ENV = "TINYAI_TEST_FAULT"  # test hook at model load: "sigill" | "sigsegv" crash; "slow-load:S" sleeps S s


def _fault_hook() -> None:
    fault = os.environ.get(FAULT_ENV, "").lower()
    if fault == "sigsegv":
        import ctypes

        ctypes.string_at(0)  # a real segmentation fault
    elif fault == "sigill":
        import signal

        os.kill(os.getpid(), signal.SIGILL)
    elif fault.startswith("slow-load:"):  # a big model read from a slow disk: a long silence
        time.sleep(float(fault.split(":", 1)[1]))


class HostEngine(Engine):
    """The engine inside the host; the test fault hook runs before a model is loaded."""

    def load(self, model=None, progress=None):
        if self._backend is None:
            _fault_hook()
        return super().load(model, progress)

    #: names of the remotes' key variables set where the current request's client runs
    keys_set: set = frozenset()

    def _check_choice(self, spec) -> None:
        """Keys come from the host's environment, captured when it started: a key variable
        set only where the client runs is not seen here, so say how to get it seen."""
        env = spec.extra.get("api_key_env") if spec.backend == "remote" else ""
        if env and not os.environ.get(env) and env in self.keys_set:
            raise RemoteError(
                f"the model host does not see {env} (the key of remote {spec.extra.get('remote')!r}): it reads keys "
                "from the environment it was started with, before the variable was set. Stop it with "
                "`jupyter tinyai serve --stop`; the next request starts a new one that reads it."
            )


class HostState:
    """What every connection of the host shares: the engine, the queue, the timers."""

    def __init__(self, settings, keep_alive: int, idle_exit: int):
        self.engine = HostEngine(settings)
        self.base = settings_body(settings)  # the host's own settings, for requests that send none
        self.scheduler = Scheduler()
        self.requests: dict[str, Request] = {}
        self.requests_lock = threading.Lock()
        self.keep_alive = keep_alive
        self.idle_exit = idle_exit
        self.started = time.time()
        self.info: dict = {}
        self.stop = threading.Event()
        self.listeners: list = []

    # -- requests -----------------------------------------------------------------------

    def register(self, rid: str | None, kind: str) -> Request:
        req = Request(rid or uuid.uuid4().hex, kind)
        with self.requests_lock:
            self.requests[req.id] = req
        return req

    def forget(self, req: Request) -> None:
        with self.requests_lock:
            self.requests.pop(req.id, None)

    def cancel(self, rid: str) -> bool:
        with self.requests_lock:
            req = self.requests.get(rid)
        if req is None:
            return False
        req.cancel.set()
        return True

    def apply_settings(self, values: dict) -> None:
        """Use the settings a client sent with its request (its model, adapter, load
        settings and remotes), and the host's own for those it did not send: nothing one
        request sets sticks to the next. The engine reloads when its choice differs."""
        if not isinstance(values, dict):
            raise BadRequest("'settings' must be a JSON object.")
        settings = self.engine.settings
        for name in LOAD_SETTINGS:
            value = values[name] if values.get(name) is not None else self.base[name]
            if getattr(settings, name) != value:
                try:
                    setattr(settings, name, value)
                except Exception as exc:  # noqa: BLE001 - traitlets' TraitError and friends
                    raise BadRequest(f"bad value for setting {name!r}: {exc}") from None
        keys = values.get("keys_set") or []
        self.engine.keys_set = {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()

    def check_model(self, name: str | None, files_only: bool = False) -> None:
        """Refuse at the door, with a 4xx before any stream starts, a model that cannot be used
        (``/etc/passwd``: ModelFileError). With ``files_only`` only an existing file is checked:
        what a name means is decided in the request's turn, by the settings it brings."""
        loaded = self.engine.model
        if not name or (loaded is not None and name == loaded.id):
            return
        if files_only and not os.path.isfile(os.path.expanduser(name)):
            return
        models.resolve(name, self.engine.settings)

    def status(self) -> dict:
        status = self.engine.status()
        idle = self.scheduler.idle_seconds()
        status["host"] = {
            "pid": os.getpid(),
            "version": __version__,
            "started": self.started,
            "uptime_s": time.time() - self.started,
            "keep_alive_s": self.keep_alive,
            "idle_exit_s": self.idle_exit,
            "idle_s": idle,
            "unload_in_s": max(0.0, self.keep_alive - idle) if self.keep_alive and status["model"] else None,
            "exit_in_s": max(0.0, self.idle_exit - idle) if self.idle_exit and not self.ports() else None,
            "queue": self.scheduler.waiting(),
            "busy": self.scheduler.running is not None,
            "socket": self.info.get("socket"),
            "ports": self.ports(),
            "log": lifecycle.log_file(),
        }
        return status

    def ports(self) -> list[int]:
        return [s.server_address[1] for s in self.listeners if isinstance(s.server_address, tuple) and s.public]

    # -- timers -------------------------------------------------------------------------

    def housekeeping(self) -> None:
        """Unload the model after keep_alive idle seconds; exit after idle_exit."""
        ticks = 0
        while not self.stop.wait(0.5):
            ticks += 1
            if ticks % 4 == 0 and not self._still_registered():
                print("the runtime file no longer names this host: exiting", flush=True)
                self.shutdown()
                return
            idle = self.scheduler.idle_seconds()
            if self.keep_alive and idle >= self.keep_alive and self.engine.model is not None:
                with self.scheduler.try_turn() as ours:
                    if ours:
                        self.engine.unload()
            if self.idle_exit and idle >= self.idle_exit and not self.ports():
                with self.scheduler.try_turn() as ours:
                    if ours:
                        self.shutdown()

    def _still_registered(self) -> bool:
        """Clients find a host only through the runtime file: one it no longer names (removed,
        or replaced by another host) is unreachable and should go."""
        info = lifecycle.read_info()
        return info is not None and info.get("pid") == os.getpid()

    def shutdown(self) -> None:
        """Stop taking requests: clients no longer find this host (they start a new one);
        requests already queued still finish (see :func:`run`)."""
        if self.stop.is_set():
            return
        lifecycle.remove_info(os.getpid())
        self.stop.set()
        for server in self.listeners:
            threading.Thread(target=server.shutdown, daemon=True).start()


# -- HTTP --------------------------------------------------------------------------------

#: the HTTP status of an error a request ends with, first match (other errors: 500). The
#: user's input errors are 4xx; a remote that fails is a bad gateway; a model that does not
#: fit, or a backend missing here, leaves the service unavailable.
ERROR_STATUS = (
    (ModelNotFound, 404),
    ((InvalidRequest, EmptyPrompt, ModelFileError, PromptTooLong), 400),
    (RemoteError, 502),
    ((InsufficientMemory, BackendUnavailable), 503),
)


def http_status(error: TinyAIError) -> int:
    return next((status for kinds, status in ERROR_STATUS if isinstance(error, kinds)), 500)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"tinyai-host/{__version__}"
    timeout = REQUEST_TIMEOUT  # a half-sent request does not hold a thread; streams lift it

    @property
    def state(self) -> HostState:
        return self.server.state

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
            self._json(403, error_body("requests from web pages are refused.", "forbidden"))
            return False
        given = self.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), token):
            return True
        self._json(401, error_body("missing or wrong bearer token (see `jupyter tinyai serve`).", "unauthorized"))
        return False

    def _body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise BadRequest("the Content-Length header is not a number.") from None
        if length < 0 or length > MAX_BODY:
            raise BadRequest(f"the request body must be at most {MAX_BODY} bytes.")
        return parse_json(self.rfile.read(length) if length else b"")

    def _json(self, code: int, data) -> None:
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

    def _send(self, data: bytes) -> None:
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
        return ROUTES.get((method, path))

    def _dispatch(self, method: str) -> None:
        route = self._route(method)
        if route is None:
            self._json(404, error_body(f"no endpoint {method} {urlparse(self.path).path}.", "not_found"))
            return
        if not self._authorized():
            return
        try:
            route(self)
        except BadRequest as exc:
            self._json(400, error_body(str(exc)))
        except TinyAIError as exc:
            self._json(http_status(exc), error_body(str(exc), exc.kind))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    # -- a streamed request through the queue ------------------------------------------------

    def _queued_stream(self, req: Request, body_fn, event=encode_event) -> None:
        """Run ``body_fn(emit)`` in ``req``'s turn, streaming what it emits as SSE; a
        client that leaves or cancels stops it. "done" is sent after the turn, so a client
        that has it finds the host idle."""
        self._start_stream()
        watcher = DisconnectWatcher(self.connection, req.cancel, tick=self._keep_alive)
        finished = []

        def emit(name, data):
            if name == "done":
                finished.append(data)
            else:
                self._send(event(name, data))

        try:
            with self.state.scheduler.turn(req, lambda n: self._send(event("queue", {"position": n}))):
                body_fn(emit)
            for data in finished:
                self._send(event("done", data))
        except Cancelled:
            self._try_send(event("done", {"cancelled": True}))
        except TinyAIError as exc:
            self._try_send(event("error", exc.to_dict()))
        except BadRequest as exc:
            self._try_send(event("error", {"kind": "bad_request", "message": str(exc)}))
        except (BrokenPipeError, ConnectionResetError):
            req.cancel.set()
        except Exception as exc:  # noqa: BLE001 - a bug or a backend failure: report it, keep serving
            traceback.print_exc()
            self._try_send(event("error", GenerationError(f"the host failed: {exc!r} (see {lifecycle.log_file()}).").to_dict()))
        finally:
            watcher.stop()
            self.state.forget(req)

    def _try_send(self, data: bytes) -> None:
        try:
            self._send(data)
        except OSError:
            pass


class DisconnectWatcher:
    """Sets ``cancel`` as soon as the client closes its end of the connection; calls
    ``tick()`` (if given) every 50 ms meanwhile."""

    def __init__(self, conn: socket.socket, cancel: threading.Event, tick=None):
        self.conn, self.cancel, self.done, self.tick = conn, cancel, threading.Event(), tick
        threading.Thread(target=self._watch, name="tinyai-disconnect", daemon=True).start()

    def _watch(self) -> None:
        while not self.done.is_set():
            try:
                readable, _, _ = select.select([self.conn], [], [], 0.05)
                if readable:
                    if not self.conn.recv(1, socket.MSG_PEEK):
                        self.cancel.set()
                        return
                    self.done.wait(0.05)  # bytes we do not read: do not spin on them
            except (OSError, ValueError):
                self.cancel.set()
                return
            if self.tick is not None:
                self.tick()

    def stop(self) -> None:
        self.done.set()


# -- our endpoints -------------------------------------------------------------------------


def handle_chat(h: Handler) -> None:
    data = h._body()
    args = chat_request(data, h.state.engine.settings.n_ctx)
    h.state.check_model(args.model, files_only=True)
    kwargs = {**args.kwargs(), "conversation": args.conversation or "default"}
    req = h.state.register(field(data, "id", str), "chat")

    def run(emit):
        h.state.apply_settings(args.settings)
        stream = h.state.engine.chat(args.prompt, cancel=req.cancel, progress=lambda f, m: emit("progress", {"fraction": f, "message": m}), **kwargs)
        try:
            for chunk in stream:
                emit("chunk", chunk.to_dict())
        finally:
            stream.close()
        emit("done", {})

    h._queued_stream(req, run)


def handle_load(h: Handler) -> None:
    data = h._body()
    model = field(data, "model", str) or None
    h.state.check_model(model, files_only=True)
    settings = check_settings(data.get("settings") or {})
    req = h.state.register(field(data, "id", str), "load")

    def run(emit):
        h.state.apply_settings(settings)
        spec = h.state.engine.load(model, lambda f, m: emit("progress", {"fraction": f, "message": m}))
        emit("done", {"model": spec.to_dict()})

    h._queued_stream(req, run)


def _in_turn(h: Handler, kind: str, fn) -> None:
    req = h.state.register(None, kind)
    try:
        with h.state.scheduler.turn(req):
            result = fn()
    finally:
        h.state.forget(req)
    h._json(200, result)


def handle_unload(h: Handler) -> None:
    h._body()
    _in_turn(h, "unload", lambda: (h.state.engine.unload(), {"ok": True})[1])


def handle_reset(h: Handler) -> None:
    cid = field(h._body(), "conversation", str, "default")
    _in_turn(h, "reset", lambda: (h.state.engine.reset(cid), {"ok": True})[1])


def handle_cancel(h: Handler) -> None:
    rid = field(h._body(), "id", str, required=True)
    h._json(200, {"cancelled": h.state.cancel(rid)})


def handle_history(h: Handler) -> None:
    cid = parse_qs(urlparse(h.path).query).get("conversation", ["default"])[0]
    h._json(200, [m.to_dict() for m in h.state.engine.history(cid)])


def handle_set_history(h: Handler) -> None:
    data = h._body()
    cid = field(data, "conversation", str, "default")
    messages = field(data, "messages", list, [])
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in messages):
        raise BadRequest("each message must be an object with 'role' and 'content' strings.")
    turns = [Message(m["role"], m["content"]) for m in messages]

    def replace():
        engine = h.state.engine
        engine.reset(cid)
        if turns:
            engine.conversations.histories[cid] = turns
        return {"ok": True}

    _in_turn(h, "history", replace)


def handle_count_tokens(h: Handler) -> None:
    data = h._body()
    text = field(data, "text", str, required=True)
    settings = data.get("settings") or {}

    def count():
        h.state.apply_settings(settings)
        return {"tokens": h.state.engine.count_tokens(text)}

    _in_turn(h, "count", count)


def handle_status(h: Handler) -> None:
    h._json(200, h.state.status())


def handle_ping(h: Handler) -> None:
    h._json(200, {"pid": os.getpid(), "version": __version__})


def handle_listen(h: Handler) -> None:
    port = field(h._body(), "port", int, required=True)
    if not 0 <= port < 65536:
        raise BadRequest("'port' must be between 0 and 65535.")
    h._json(200, listen_tcp(h.state, port))


def handle_shutdown(h: Handler) -> None:
    h._json(200, {"ok": True})
    h.state.shutdown()


ROUTES = {
    ("GET", "/tinyai/ping"): handle_ping,
    ("GET", "/tinyai/status"): handle_status,
    ("GET", "/tinyai/history"): handle_history,
    ("POST", "/tinyai/history"): handle_set_history,
    ("POST", "/tinyai/count_tokens"): handle_count_tokens,
    ("POST", "/tinyai/chat"): handle_chat,
    ("POST", "/tinyai/load"): handle_load,
    ("POST", "/tinyai/unload"): handle_unload,
    ("POST", "/tinyai/reset"): handle_reset,
    ("POST", "/tinyai/cancel"): handle_cancel,
    ("POST", "/tinyai/listen"): handle_listen,
    ("POST", "/tinyai/shutdown"): handle_shutdown,
    ("GET", "/v1/models"): handle_v1_models,
    ("POST", "/v1/chat/completions"): handle_v1_chat,
}


# -- listeners ---------------------------------------------------------------------------------


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64  # many kernels connecting at once are not refused
    public = False

    def __init__(self, path: str, state: HostState):
        self.state, self.token = state, None
        old = os.umask(0o177)  # the socket is created 0600
        try:
            super().__init__(path, Handler)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)


class TCPHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, port: int, state: HostState, token: str, public: bool):
        self.state, self.token, self.public = state, token, public
        super().__init__(("127.0.0.1", port), Handler)


def _serve(server, state: HostState) -> None:
    state.listeners.append(server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="tinyai-listener", daemon=True).start()


def listen_tcp(state: HostState, port: int) -> dict:
    """Also listen on 127.0.0.1:port with a bearer token (kept in the runtime file)."""
    for server in state.listeners:
        if server.public and (port == 0 or server.server_address[1] == port):
            return {"url": f"http://127.0.0.1:{server.server_address[1]}/v1", "token": server.token, "new": False}
    token = state.info.get("token") or secrets.token_urlsafe(32)
    try:
        server = TCPHTTPServer(port, state, token, public=True)
    except OSError as exc:
        raise BadRequest(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); choose another --port.") from None
    _serve(server, state)
    port = server.server_address[1]
    state.info.update(token=token, ports=sorted(set(state.info.get("ports", [])) | {port}))
    lifecycle.write_info(state.info)
    return {"url": f"http://127.0.0.1:{port}/v1", "token": token, "new": True}


def run(keep_alive: int, idle_exit: int, port: int | None = None) -> int:
    """Run the host until it is idle for ``idle_exit`` seconds, or told to stop."""
    import faulthandler

    # faulthandler writes a fatal signal's report to this fd; it is removed on every exit
    crash_path = lifecycle.crash_file(os.getpid())
    crash = os.fdopen(os.open(crash_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")
    faulthandler.enable(crash, all_threads=True)
    try:
        return _run(keep_alive, idle_exit, port)
    finally:
        faulthandler.disable()
        crash.close()
        try:
            os.unlink(crash_path)
        except OSError:
            pass


def _run(keep_alive: int, idle_exit: int, port: int | None) -> int:
    import signal

    import psutil

    from ..config import load_settings

    state = HostState(load_settings(host="inprocess"), keep_alive, idle_exit)
    info = {
        "pid": os.getpid(),
        "process_created": psutil.Process().create_time(),
        "started": state.started,
        "version": __version__,
        "python": sys.executable,
        **lifecycle.installation(),
        "log": lifecycle.log_file(),
    }
    if lifecycle.use_unix_socket():
        path = lifecycle.socket_path()
        if os.path.exists(path):
            os.unlink(path)
        _serve(UnixHTTPServer(path, state), state)
        info["socket"] = path
    else:  # Windows (or TINYAI_HOST_TRANSPORT=tcp): loopback TCP with a token in the user-only runtime file
        token = secrets.token_urlsafe(32)
        server = TCPHTTPServer(0, state, token, public=False)
        _serve(server, state)
        info.update(port=server.server_address[1], token=token)
    state.info = info
    lifecycle.write_info(info)
    if port is not None:
        listen_tcp(state, port)
    signal.signal(signal.SIGTERM, lambda *_: state.shutdown())
    threading.Thread(target=state.housekeeping, name="tinyai-housekeeping", daemon=True).start()
    print(f"tinyai host {__version__} pid {os.getpid()} listening on {info.get('socket') or info.get('port')}", flush=True)
    try:
        while not state.stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        state.shutdown()
    for server in state.listeners:
        server.server_close()
    deadline = time.monotonic() + 120
    while not state.scheduler.idle() and time.monotonic() < deadline:
        time.sleep(0.05)  # let queued requests finish
    state.engine.unload()
    print("tinyai host stopped", flush=True)
    return 0
