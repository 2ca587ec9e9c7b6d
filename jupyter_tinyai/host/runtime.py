"""The host's files in the Jupyter runtime directory (``jupyter --runtime-dir``), which
only the user may enter (0700):

    tinyai-host.json        pid, socket path (or URL + token on Windows), start time, version
    tinyai-host.sock        the Unix socket (0600)
    tinyai-host.lock        held while a client starts a host, so racing clients make one
    tinyai-host.log         the host's stdout and stderr
    tinyai-host-PID.crash   Python's faulthandler report when the host dies from a signal
                            (0600; removed when the host exits or is found gone without one)
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile

from ..errors import HostError
from .protocol import RUNTIME_FILE

UNIX_PATH_MAX = 100  # sun_path is 104-108 bytes; keep a margin
TRANSPORT_ENV = "TINYAI_HOST_TRANSPORT"  # "tcp": loopback TCP + token, as on Windows (tests)


def use_unix_socket() -> bool:
    if os.environ.get(TRANSPORT_ENV, "").lower() == "tcp":
        return False
    return hasattr(socket, "AF_UNIX") and os.name != "nt"


def runtime_dir() -> str:
    """The Jupyter runtime directory, created user-only (0700)."""
    from jupyter_core.paths import jupyter_runtime_dir

    path = jupyter_runtime_dir()
    os.makedirs(path, mode=0o700, exist_ok=True)
    if os.name != "nt":
        os.chmod(path, 0o700)
    return path


def runtime_file() -> str:
    return os.path.join(runtime_dir(), RUNTIME_FILE)


def log_file() -> str:
    return os.path.join(runtime_dir(), "tinyai-host.log")


def crash_file(pid: int) -> str:
    return os.path.join(runtime_dir(), f"tinyai-host-{pid}.crash")


def socket_path() -> str:
    """Where the host listens: in the runtime dir, or a short user-only temp dir when that
    path is too long for a Unix socket."""
    path = os.path.join(runtime_dir(), "tinyai-host.sock")
    if len(path.encode()) <= UNIX_PATH_MAX:
        return path
    short = os.path.join(tempfile.gettempdir(), f"tinyai-{os.getuid()}")
    os.makedirs(short, mode=0o700, exist_ok=True)
    st = os.lstat(short)
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise HostError(f"{short} is not a directory only you can use: remove it and try again.")
    digest = hashlib.sha1(runtime_dir().encode()).hexdigest()[:12]
    return os.path.join(short, f"host-{digest}.sock")


def read_info() -> dict | None:
    try:
        with open(runtime_file(), encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "pid" in info else None


def write_info(info: dict) -> None:
    """Write the runtime file atomically, readable by the user only."""
    path = runtime_file()
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
    os.replace(tmp, path)


def remove_info(pid: int) -> None:
    """Remove the runtime file and socket if they still belong to host ``pid``."""
    info = read_info()
    if info and info.get("pid") == pid:
        remove_files(info)


def remove_files(info: dict) -> None:
    """The runtime file and the socket it names."""
    for path in (runtime_file(), info.get("socket")):
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass
