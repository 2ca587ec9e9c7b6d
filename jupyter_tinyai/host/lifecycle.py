"""Starting and stopping the host: the one client that finds none starts it (others wait on
a lock, then use it), replacing a stale, hung or stopped one, or another installation's
when that one is idle (it is refused with a message while it is busy or serves a port).

The host's files are in :mod:`.runtime`; whether it runs and answers, :mod:`.liveness`;
what to say when it crashed or hangs, :mod:`.crashes`; whose it is, :mod:`.installation`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from .._version import __version__
from ..errors import HostError
from .crashes import RESTART_HINT, remove_empty_crash_file, tidy_crash_files
from .installation import describe, installation, same_installation
from .liveness import answering, is_alive, request_json, responds, wait_gone
from .runtime import log_file, read_info, remove_files, remove_info, runtime_dir, runtime_file

START_TIMEOUT = 60.0


@contextmanager
def start_lock(timeout: float = START_TIMEOUT):
    """Held by the one client starting a host; others wait, then find the host it started."""
    path = os.path.join(runtime_dir(), "tinyai-host.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                _lock(fd)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise HostError(f"another process has been starting the model host for {timeout:.0f} s; "
                                    f"if none is, remove {path} and try again.") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _lock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, 0, 0)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def ensure_host(settings=None, timeout: float = START_TIMEOUT) -> dict:
    """The runtime info of the running host, starting one first when there is none."""
    seen = read_info()
    info = answering(seen)
    if info and same_installation(info):
        return info
    with start_lock(timeout):
        now = read_info()  # another client may have started a host while we waited
        info = info if now == seen else answering(now)
        if info and same_installation(info):
            return info
        if info:
            retire(info)
        clear_stale()
        return _start(settings, timeout)


def clear_stale() -> None:
    """Remove the runtime file and socket of a host that is gone."""
    info = read_info()
    if info is None:
        try:
            os.unlink(runtime_file())
        except OSError:
            pass
        return
    if is_alive(info):
        # alive but not answering: a hung (or stopped) host; stop it so a new one can take over
        try:
            os.kill(int(info["pid"]), signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
        except OSError:
            pass
        wait_gone(info)
    remove_files(info)
    remove_empty_crash_file(int(info.get("pid", 0)))


def host_command(settings=None) -> list[str]:
    cmd = [sys.executable, "-m", "jupyter_tinyai.host"]
    if settings is not None:
        cmd += ["--keep-alive", str(settings.keep_alive), "--idle-exit", str(settings.host_idle_exit)]
    return cmd


def retire(info: dict, timeout: float = 30.0) -> None:
    """Stop another installation's host if it is idle, so this one can start its own.

    A host that is answering, has requests queued or serves a port is left alone: stopping
    it would cut off the other installation's clients. Raises HostError saying what to do.
    """
    pid = int(info["pid"])
    try:
        code, status = request_json(info, "GET", "/tinyai/status")
        host = status.get("host", {}) if code == 200 and isinstance(status, dict) else {}
    except OSError:
        host = {}  # it answered a ping a moment ago: treat as busy rather than kill it
    ours = f"jupyter_tinyai {__version__} in {installation()['package']}"
    if host.get("ports"):
        raise HostError(f"the model host (pid {pid}) is {describe(info)}, not this {ours}, and serves the "
                        f"OpenAI-compatible API on port {host['ports'][0]}: stop it with `{RESTART_HINT}` to use this one.")
    if not host or host.get("busy") or host.get("queue"):
        raise HostError(f"the model host (pid {pid}) is {describe(info)}, not this {ours}, and is answering one of "
                        f"its clients: try again when it is done (it is then replaced), or stop it now with `{RESTART_HINT}`.")
    try:
        request_json(info, "POST", "/tinyai/shutdown", {})
    except OSError:
        pass
    if not wait_gone(info, timeout):  # it was idle and no longer registered: end it
        stop_host(info)


def _start(settings, timeout: float) -> dict:
    tidy_crash_files()
    log = os.fdopen(os.open(log_file(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
    kwargs = {}
    if os.name == "nt":  # pragma: no cover - Windows
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
    else:
        kwargs["start_new_session"] = True
    try:
        # in the user-only runtime folder: `python -m` puts its working folder first on sys.path,
        # and the caller's (a notebook's folder, a clone) may hold a uuid.py or jupyter_tinyai/
        proc = subprocess.Popen(host_command(settings), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                close_fds=True, cwd=runtime_dir(), **kwargs)
    finally:
        log.close()
    # reap it when it exits, so it never lingers as a zombie of this process
    threading.Thread(target=proc.wait, name="tinyai-host-reaper", daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = read_info()
        if info and info.get("pid") == proc.pid and responds(info):
            return info
        if proc.poll() is not None:
            raise HostError(
                f"the model host exited while starting (exit code {proc.returncode}). "
                f"Its log is {log_file()}:\n{log_tail()}"
            )
        time.sleep(0.02)
    raise HostError(f"the model host did not start within {timeout:.0f} s; see its log at {log_file()}.")


def log_tail(lines: int = 15) -> str:
    try:
        with open(log_file(), encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


def stop_host(info: dict | None = None, timeout: float = 10.0) -> bool:
    """Stop the running host (SIGTERM, then SIGKILL); False when none was running."""
    info = info or read_info()
    if not info or not is_alive(info):
        return False
    pid = int(info["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
        if hasattr(signal, "SIGCONT"):  # a stopped host handles SIGTERM once continued
            os.kill(pid, signal.SIGCONT)
    except OSError:
        return False
    if not wait_gone(info, timeout) and hasattr(signal, "SIGKILL"):
        os.kill(pid, signal.SIGKILL)
        wait_gone(info, timeout)
    remove_info(pid)
    remove_empty_crash_file(pid)
    return True
