"""One HTTP request to a remote inference server, on the standard library's ``http.client``.

Time limits: connecting, sending and receiving the response's head take at most the remote's
``timeout`` together (over every address of the host name); afterwards each wait for data (a
JSON body, the next event of a stream) gets ``timeout`` again. A watchdog thread closes the
socket when a wait overruns, or when the request is cancelled. Every failure is a RemoteError
(or ModelNotFound) that names the remote and says what to check, with the server's own text
passed through :meth:`Remote.scrub <jupyter_tinyai.remotes.config.Remote.scrub>`.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

from ..errors import ModelNotFound, RemoteError
from ..watch import every
from .config import Remote

_current = threading.local()


@contextmanager
def cancelled_by(cancel: threading.Event):
    """Within this block, connections made by this thread without a ``cancel`` of their own
    (listing a remote's models while loading it, counting tokens) are closed when ``cancel``
    is set: a stopped request does not wait for a silent remote's timeout."""
    previous = getattr(_current, "cancel", None)
    _current.cancel = cancel
    try:
        yield
    finally:
        _current.cancel = previous


class Connection:
    """One HTTP request to ``remote`` (see the module's docstring for its time limits);
    ``timeout`` overrides the remote's, ``cancel`` closes the connection when set (by
    default, the request's of :func:`cancelled_by`)."""

    def __init__(self, remote: Remote, timeout: float | None = None, cancel: threading.Event | None = None):
        self.remote = remote
        self.timeout = timeout or remote.timeout
        self.cancel = cancel if cancel is not None else getattr(_current, "cancel", None)
        self.conn: http.client.HTTPConnection | None = None
        self.sock: socket.socket | None = None  # kept: http.client drops it when the response reads to EOF
        self.deadline: float | None = None  # time.monotonic() the current wait must end by
        self.expired = False  # a wait overran: the watchdog closed the socket
        self._closed = threading.Event()

    def fail(self, message: str, status: int | None = None, answered: bool = True) -> RemoteError:
        """Our message (server text in it passed through ``Remote.scrub``), with the HTTP
        ``status`` the server answered, and whether it ``answered`` at all (False: it could
        not be reached, or a wait timed out)."""
        error = RemoteError(message)
        error.status, error.answered = status, answered
        return error

    def wait(self, seconds: float | None) -> None:
        """The next wait for the server ends within ``seconds`` (None: no limit, e.g. while
        the caller handles a chunk)."""
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def _check(self) -> None:
        """(Every 50 ms until closed.) Abort a wait past its deadline, or a cancelled one."""
        deadline = self.deadline
        if deadline is not None and time.monotonic() > deadline:
            self.expired = True
        if self.expired or (self.cancel is not None and self.cancel.is_set()):
            self.abort()

    def _connect(self, address, timeout, source_address=None) -> socket.socket:
        """``socket.create_connection`` sharing one deadline across every address."""
        host, port = address
        last: OSError | None = None
        for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
            remaining = self.deadline - time.monotonic() if self.deadline else timeout
            if remaining <= 0:
                raise TimeoutError("timed out")
            sock = socket.socket(family, kind, proto)
            sock.settimeout(remaining)
            try:
                sock.connect(sockaddr)
                sock.settimeout(timeout)  # a backstop: the watchdog keeps the deadlines
                return sock
            except OSError as exc:
                sock.close()
                last = exc
        raise last or OSError(f"no address for {host}")

    def open(self, method: str, url: str, body: dict | None = None) -> http.client.HTTPResponse:
        """Send the request; the response for any status (the caller checks it)."""
        parts = urlsplit(url)
        port = parts.port
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        kwargs = {"context": _ssl_context()} if parts.scheme == "https" else {}
        self.conn = cls(parts.hostname, port, timeout=self.timeout, **kwargs)
        self.conn._create_connection = self._connect
        headers = {"Accept": "application/json, text/event-stream", "User-Agent": "jupyter-tinyai"}
        key = self.remote.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        name, shown = self.remote.name, self.remote.url
        self.wait(self.timeout)
        every(0.05, self._check, until=self._closed, name="tinyai-remote-watch")
        try:
            self.conn.request(method, path, body=data, headers=headers)
            self.sock = self.conn.sock
            response = self.conn.getresponse()
            self.wait(None)
            return response
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            if self.expired or isinstance(exc, (socket.timeout, TimeoutError)):
                raise self.fail(
                    f"remote {name!r} ({shown}) did not answer within {self.timeout:g} s: the server may be "
                    f"busy or still loading the model; try again, or raise 'timeout' in c.TinyAI.remotes[{name!r}].",
                    answered=False,
                ) from None
            raise self.fail(
                f"cannot reach remote {name!r} at {shown} ({self.remote.scrub(reason(exc))}): check that the server is "
                f"running and reachable from here, and the url in c.TinyAI.remotes[{name!r}].",
                answered=False,
            ) from None

    def check(self, response: http.client.HTTPResponse, what: str, model: str = "") -> None:
        """Raise a clear error for a response that is not a success."""
        if 200 <= response.status < 300:
            return
        self.wait(self.timeout)
        detail = self.remote.scrub(_error_detail(response))
        self.close()
        name, status = self.remote.name, response.status
        if status in (401, 403):
            raise self.fail(f"remote {name!r} refused the request (HTTP {status}, wrong or missing API key): {self.remote.key_hint()}", status)
        if status == 404 and model and ("model" in detail.lower() or what == "chat"):
            raise ModelNotFound(
                f"remote {name!r} has no model {model!r} ({detail or 'HTTP 404'}). Run `jupyter tinyai models` "
                f"to see the models it serves, or load/pull the model on the server."
            )
        if status == 404:
            raise self.fail(f"remote {name!r} has no {what} endpoint at {self.remote.url} (HTTP 404): check that the url "
                            "points at an OpenAI-compatible server and ends in /v1.", status)
        hint = ""
        if status in (400, 413) and ("context" in detail.lower() or "token" in detail.lower()):
            hint = f" The prompt may exceed the server's context window: set 'n_ctx' in c.TinyAI.remotes[{name!r}] to the server's."
        raise self.fail(f"remote {name!r} answered HTTP {status} to the {what} request: {detail or self.remote.scrub(response.reason)}.{hint}", status)

    def json(self, method: str, url: str, body: dict | None = None, what: str = "", model: str = "") -> dict:
        response = self.open(method, url, body)
        try:
            self.check(response, what, model)
            self.wait(self.timeout)
            raw = response.read()
            if self.expired:
                raise TimeoutError
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            if self.expired or isinstance(exc, (socket.timeout, TimeoutError)):
                raise self.fail(f"remote {self.remote.name!r} stopped answering the {what} request within {self.timeout:g} s.",
                                answered=False) from None
            raise self.fail(f"the connection to remote {self.remote.name!r} broke during the {what} request "
                            f"({self.remote.scrub(reason(exc))}).", answered=False) from None
        finally:
            self.close()
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise self.fail(f"remote {self.remote.name!r} answered the {what} request with something that is not JSON: "
                            "check that the url points at an OpenAI-compatible server.") from None

    def close(self) -> None:
        self._closed.set()
        self.abort()
        conn, sock, self.conn, self.sock = self.conn, self.sock, None, None
        if conn is not None:
            conn.close()
        if sock is not None:
            sock.close()

    def abort(self) -> None:
        """Unblock a read in progress (from another thread): the server sees the client go."""
        conn = self.conn
        sock = (conn.sock if conn is not None else None) or self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _ssl_context():
    import ssl

    return ssl.create_default_context()


def reason(exc: BaseException) -> str:
    """Why a connection or a read failed, in a few words for a message."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    text = str(exc) or type(exc).__name__
    return text[:200]


def _error_detail(response) -> str:
    try:
        raw = response.read(4096).decode("utf-8", "replace")
    except Exception:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip()[:200]
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message") or json.dumps(err)
        if err:
            return str(err)[:200]
    return raw.strip()[:200]
