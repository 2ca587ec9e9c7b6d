"""Where the host listens: its Unix socket (0600, in the user-only runtime directory), or
loopback TCP with a token where there are no Unix sockets; and, with ``serve --port``, a
public 127.0.0.1 port with a bearer token. Each connection gets a :class:`.handler.Handler`
serving the listener's ``routes``."""

from __future__ import annotations

import os
import secrets
import socketserver
import threading
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING

from . import hostlog, runtime
from .handler import Handler
from .protocol import BadRequest

if TYPE_CHECKING:  # pragma: no cover
    from .state import HostState


class _LogErrors:
    def handle_error(self, request, client_address):  # instead of socketserver's traceback on stderr
        hostlog.request_failed(client_address)


class UnixHTTPServer(_LogErrors, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64  # many kernels connecting at once are not refused
    public = False

    def __init__(self, path: str, state: HostState, routes: dict):
        self.state, self.routes, self.token = state, routes, None
        old = os.umask(0o177)  # the socket is created 0600
        try:
            super().__init__(path, Handler)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)


class TCPHTTPServer(_LogErrors, ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, port: int, state: HostState, routes: dict, token: str, public: bool):
        self.state, self.routes, self.token, self.public = state, routes, token, public
        super().__init__(("127.0.0.1", port), Handler)


def serve(server, state: HostState) -> None:
    """Serve ``server``'s connections in a thread, until the host stops."""
    state.listeners.append(server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="tinyai-listener", daemon=True).start()


def listen_tcp(state: HostState, port: int, routes: dict) -> dict:
    """Also listen on 127.0.0.1:port with a bearer token (kept in the runtime file),
    serving ``routes``."""
    for server in state.listeners:
        if server.public and (port == 0 or server.server_address[1] == port):
            return {"url": f"http://127.0.0.1:{server.server_address[1]}/v1", "token": server.token, "new": False}
    token = state.info.get("token") or secrets.token_urlsafe(32)
    try:
        server = TCPHTTPServer(port, state, routes, token, public=True)
    except OSError as exc:
        raise BadRequest(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); choose another --port.") from None
    serve(server, state)
    port = server.server_address[1]
    state.info.update(token=token, ports=sorted(set(state.info.get("ports", [])) | {port}))
    runtime.write_info(state.info)
    return {"url": f"http://127.0.0.1:{port}/v1", "token": token, "new": True}
