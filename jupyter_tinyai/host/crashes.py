"""When a host is gone or hung: what happened (the signal in its crash report) and what to
do, in one message; and tidying crash files of hosts that are gone."""

from __future__ import annotations

import os
import time

from .liveness import is_stopped, process_start_time, wait_gone
from .runtime import crash_file, log_file, runtime_dir

RESTART_HINT = "jupyter tinyai serve --stop"
REBUILD_HINT = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON" '
    "pip install --no-cache-dir --force-reinstall llama-cpp-python"
)


def remove_empty_crash_file(pid: int) -> None:
    """The crash file of a host that is gone, when it holds no report (it was killed)."""
    path = crash_file(pid)
    try:
        if os.path.getsize(path) == 0 and process_start_time(pid) is None:
            os.unlink(path)
    except OSError:
        pass


def tidy_crash_files(keep_seconds: float = 86400) -> None:
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


def hung_message(info: dict, seconds: float) -> str:
    """What to say when the host sent nothing for ``seconds`` (c.TinyAI.host_timeout)."""
    pid = int(info.get("pid", 0))
    state = "is stopped" if is_stopped(info) else "is stopped or hung"
    return (f"the model host (pid {pid}) has sent nothing for {seconds:.0f} s (c.TinyAI.host_timeout): it {state}. "
            f"The next request replaces it; or restart it now with `{RESTART_HINT}` (or kill -9 {pid}).")


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
