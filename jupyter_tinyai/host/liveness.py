"""Whether a host is there: its process alive (and not a later one with its pid), not
stopped, and answering a ping within a few seconds. A host that only accepts connections
is hung, and the next client that needs it replaces it."""

from __future__ import annotations

import http.client
import json
import socket
import time

from .runtime import read_info

PING_TIMEOUT = 10.0  # a host that does not answer a ping within this is hung


def process_start_time(pid: int) -> float | None:
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def is_alive(info: dict) -> bool:
    """Whether the process named by ``info`` is running and is the host that wrote it
    (not a later process that got the same pid). A stopped or hung host is alive."""
    created = process_start_time(int(info.get("pid", 0)))
    return created is not None and abs(created - float(info.get("process_created", created))) < 1.0


def is_stopped(info: dict) -> bool:
    """Whether the host's process is stopped (SIGSTOP, Ctrl-Z, a debugger): it accepts
    connections but answers nothing until it is continued."""
    import psutil

    try:
        return psutil.Process(int(info.get("pid", 0))).status() in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def connect(info: dict, timeout: float | None = None) -> socket.socket:
    """A connected socket to the host described by ``info``."""
    if info.get("socket"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address = info["socket"]
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        address = ("127.0.0.1", int(info["port"]))
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


def headers(info: dict) -> dict:
    """The headers of a request to the host: the bearer token when it listens on TCP."""
    out = {"Content-Type": "application/json"}
    if info.get("token") and not info.get("socket"):
        out["Authorization"] = f"Bearer {info['token']}"
    return out


def request_json(info: dict, method: str, path: str, body=None, timeout: float = PING_TIMEOUT):
    """One short request to the host: (HTTP status, JSON answer). Raises OSError (a
    TimeoutError when the host does not answer within ``timeout``)."""
    conn = http.client.HTTPConnection("localhost", timeout=timeout)
    conn.sock = connect(info, timeout)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers(info))
        response = conn.getresponse()
        data = response.read()
    except http.client.HTTPException as exc:
        raise ConnectionResetError(str(exc)) from None
    finally:
        conn.close()
    try:
        return response.status, json.loads(data or b"null")
    except ValueError:
        return response.status, None


def responds(info: dict, timeout: float = PING_TIMEOUT) -> bool:
    """Whether the host answers a ping (not only accepts a connection) within ``timeout``."""
    if is_stopped(info):
        return False
    try:
        status, data = request_json(info, "GET", "/tinyai/ping", timeout=timeout)
    except OSError:
        return False
    return status == 200 and isinstance(data, dict) and data.get("pid") == info.get("pid")


def running_host() -> dict | None:
    """The runtime info of a live, answering host, or None (a stale or hung one is left
    for :func:`.lifecycle.ensure_host`)."""
    return answering(read_info())


def answering(info: dict | None) -> dict | None:
    return info if info and is_alive(info) and responds(info) else None


def wait_gone(info: dict, timeout: float = 3.0) -> bool:
    """Wait until the host of ``info`` has exited; False if it is still running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(info):
            return True
        time.sleep(0.02)
    return False
