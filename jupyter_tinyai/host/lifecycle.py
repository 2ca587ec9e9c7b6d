"""Finding, starting and diagnosing the host: its runtime file, lock, log and crash file.

Everything lives in the Jupyter runtime directory (``jupyter --runtime-dir``), which only
the user may enter (0700):

    tinyai-host.json        pid, socket path (or URL + token on Windows), start time, version
    tinyai-host.sock        the Unix socket (0600)
    tinyai-host.lock        held while a client starts a host, so racing clients make one
    tinyai-host.log         the host's stdout and stderr
    tinyai-host-PID.crash   Python's faulthandler report when the host dies from a signal
                            (0600; removed when the host exits or is found gone without one)

A host is *running* when its process exists, is not stopped (SIGSTOP, a debugger) and
answers a ping within a few seconds; a host that only accepts connections is hung, and the
next client that needs it replaces it. Clients use only a host of their own installation
(the same version, Python environment and package): another installation's host is stopped
and replaced when it is idle, and refused with a message while it is busy or serves a port.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

from .._version import __version__
from ..errors import HostError
from .protocol import RUNTIME_FILE

START_TIMEOUT = 60.0
PING_TIMEOUT = 10.0  # a host that does not answer a ping within this is hung
UNIX_PATH_MAX = 100  # sun_path is 104-108 bytes; keep a margin
TRANSPORT_ENV = "TINYAI_HOST_TRANSPORT"  # "tcp": loopback TCP + token, as on Windows (tests)
RESTART_HINT = "jupyter tinyai serve --stop"

REBUILD_HINT = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON" '
    "pip install --no-cache-dir --force-reinstall llama-cpp-python"
)


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


# -- the runtime file ------------------------------------------------------------------


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
        _remove_files(info)


def _remove_files(info: dict) -> None:
    """The runtime file and the socket it names."""
    for path in (runtime_file(), info.get("socket")):
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass


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
    for :func:`ensure_host`)."""
    return _answering(read_info())


def _answering(info: dict | None) -> dict | None:
    return info if info and is_alive(info) and responds(info) else None


def hung_message(info: dict, seconds: float) -> str:
    """What to say when the host sent nothing for ``seconds`` (c.TinyAI.host_timeout)."""
    pid = int(info.get("pid", 0))
    state = "is stopped" if is_stopped(info) else "is stopped or hung"
    return (f"the model host (pid {pid}) has sent nothing for {seconds:.0f} s (c.TinyAI.host_timeout): it {state}. "
            f"The next request replaces it; or restart it now with `{RESTART_HINT}` (or kill -9 {pid}).")


# -- one installation's host ----------------------------------------------------------------


def installation() -> dict:
    """What a host records so clients of another installation can tell it is not theirs."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {"version": __version__, "prefix": sys.prefix, "package": os.path.realpath(package)}


def same_installation(info: dict) -> bool:
    return all(info.get(key) == value for key, value in installation().items())


def _describe(info: dict) -> str:
    return f"jupyter_tinyai {info.get('version', 'of an unknown version')} in {info.get('package') or info.get('python', '?')}"


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
        raise HostError(f"the model host (pid {pid}) is {_describe(info)}, not this {ours}, and serves the "
                        f"OpenAI-compatible API on port {host['ports'][0]}: stop it with `{RESTART_HINT}` to use this one.")
    if not host or host.get("busy") or host.get("queue"):
        raise HostError(f"the model host (pid {pid}) is {_describe(info)}, not this {ours}, and is answering one of "
                        f"its clients: try again when it is done (it is then replaced), or stop it now with `{RESTART_HINT}`.")
    try:
        request_json(info, "POST", "/tinyai/shutdown", {})
    except OSError:
        pass
    if not wait_gone(info, timeout):  # it was idle and no longer registered: end it
        stop_host(info)


# -- starting ---------------------------------------------------------------------------


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
    info = _answering(seen)
    if info and same_installation(info):
        return info
    with start_lock(timeout):
        now = read_info()  # another client may have started a host while we waited
        info = info if now == seen else _answering(now)
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
    _remove_files(info)
    remove_empty_crash_file(int(info.get("pid", 0)))


def host_command(settings=None) -> list[str]:
    cmd = [sys.executable, "-m", "jupyter_tinyai.host"]
    if settings is not None:
        cmd += ["--keep-alive", str(settings.keep_alive), "--idle-exit", str(settings.host_idle_exit)]
    return cmd


def remove_empty_crash_file(pid: int) -> None:
    """The crash file of a host that is gone, when it holds no report (it was killed)."""
    path = crash_file(pid)
    try:
        if os.path.getsize(path) == 0 and process_start_time(pid) is None:
            os.unlink(path)
    except OSError:
        pass


def _tidy_crash_files(keep_seconds: float = 86400) -> None:
    """Remove crash files of hosts that are gone: empty ones at once, reports after a day."""
    import glob

    for path in glob.glob(os.path.join(runtime_dir(), "tinyai-host-*.crash")):
        try:
            pid = int(os.path.basename(path)[len("tinyai-host-"):-len(".crash")])
            st = os.stat(path)
            if process_start_time(pid) is None and (st.st_size == 0 or time.time() - st.st_mtime > keep_seconds):
                os.unlink(path)
        except (ValueError, OSError):
            pass


def _start(settings, timeout: float) -> dict:
    _tidy_crash_files()
    log = os.fdopen(os.open(log_file(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
    kwargs = {}
    if os.name == "nt":  # pragma: no cover - Windows
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
    else:
        kwargs["start_new_session"] = True
    try:
        proc = subprocess.Popen(host_command(settings), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                close_fds=True, **kwargs)
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


# -- when the host is gone ----------------------------------------------------------------


def wait_gone(info: dict, timeout: float = 3.0) -> bool:
    """Wait until the host of ``info`` has exited; False if it is still running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(info):
            return True
        time.sleep(0.02)
    return False


SIGNALS = {
    "Illegal instruction": "SIGILL",
    "Segmentation fault": "SIGSEGV",
    "Bus error": "SIGBUS",
    "Floating-point exception": "SIGFPE",
    "Floating point exception": "SIGFPE",
    "Aborted": "SIGABRT",
}


def crash_signal(pid: int) -> str | None:
    """The signal that killed host ``pid``, from its faulthandler report (None: no report,
    e.g. SIGKILL, which cannot be caught)."""
    try:
        with open(crash_file(pid), encoding="utf-8", errors="replace") as f:
            report = f.read()
    except OSError:
        return None
    for text, name in SIGNALS.items():
        if text in report:
            return name
    return "a fatal signal" if "Fatal Python error" in report else None


def crash_message(info: dict) -> str:
    """What happened to a host whose stream broke, and what to do."""
    pid = int(info.get("pid", 0))
    if not wait_gone(info):
        return (f"the connection to the model host (pid {pid}) broke but it is still running; "
                f"try again, and see its log at {log_file()} if this repeats.")
    sig = crash_signal(pid)
    remove_empty_crash_file(pid)
    after = " The partial answer is kept; the next request starts a new host."
    if sig == "SIGILL":
        return (f"the model host crashed with SIGILL (illegal instruction): llama.cpp was built with CPU "
                "instructions this machine cannot run (AMX or AVX-512 in some VMs). Rebuild llama-cpp-python "
                f"without them: {REBUILD_HINT}." + after)
    if sig == "SIGSEGV":
        return (f"the model host crashed with SIGSEGV (segmentation fault) inside native code: the model file "
                "may be corrupt or not supported by this llama-cpp-python, or the library is broken. Try another "
                f"model file, or reinstall llama-cpp-python ({REBUILD_HINT}). Crash report: {crash_file(pid)}." + after)
    if sig:
        return (f"the model host crashed with {sig} inside native code. Crash report: {crash_file(pid)}; "
                f"log: {log_file()}." + after)
    return ("the model host stopped in the middle of the request: it was killed (perhaps by the system "
            f"when memory ran out — try a smaller model or lower c.TinyAI.n_ctx). Log: {log_file()}." + after)


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


__all__ = [
    "connect",
    "crash_file",
    "crash_message",
    "ensure_host",
    "hung_message",
    "installation",
    "log_file",
    "read_info",
    "remove_info",
    "responds",
    "running_host",
    "runtime_dir",
    "socket_path",
    "stop_host",
    "write_info",
]
