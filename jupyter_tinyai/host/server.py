"""The host process: ``python -m jupyter_tinyai.host`` runs :func:`run` — its listeners up
and its runtime file written, serving :mod:`.routes` until it is idle for ``idle_exit``
seconds or told to stop; a fatal signal's report goes to its crash file.

The parts: :mod:`.state` (what every connection shares, the timers), :mod:`.handler` (HTTP
plumbing), :mod:`.routes` and :mod:`.compat` (the endpoints), :mod:`.listeners` (where it
listens), :mod:`.engine` (the engine inside it).
"""

from __future__ import annotations

import os
import secrets
import sys
import time

from .._version import __version__
from . import hostlog, installation, runtime
from .listeners import TCPHTTPServer, UnixHTTPServer, listen_tcp, serve
from .routes import ROUTES
from .state import HostState


def run(keep_alive: int, idle_exit: int, port: int | None = None) -> int:
    """Run the host until it is idle for ``idle_exit`` seconds, or told to stop."""
    import faulthandler

    hostlog.install(runtime.log_file())
    # faulthandler writes a fatal signal's report to this fd; it is removed on every exit
    crash_path = runtime.crash_file(os.getpid())
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
        **installation.installation(),
        "log": runtime.log_file(),
    }
    if runtime.use_unix_socket():
        path = runtime.socket_path()
        if os.path.exists(path):
            os.unlink(path)
        serve(UnixHTTPServer(path, state, ROUTES), state)
        info["socket"] = path
    else:  # Windows (or TINYAI_HOST_TRANSPORT=tcp): loopback TCP with a token in the user-only runtime file
        token = secrets.token_urlsafe(32)
        server = TCPHTTPServer(0, state, ROUTES, token, public=False)
        serve(server, state)
        info.update(port=server.server_address[1], token=token)
    state.info = info
    runtime.write_info(info)
    if port is not None:
        listen_tcp(state, port, ROUTES)
    signal.signal(signal.SIGTERM, lambda *_: state.shutdown())
    state.start_timers()
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
