"""Host processes started by a test, found by the runtime directory they serve."""

from __future__ import annotations

import psutil


def hosts_of(runtime_dir: str) -> list[psutil.Process]:
    """Host processes serving ``runtime_dir`` (started by this test, or by its kernels)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmd = proc.info["cmdline"] or []
            if "jupyter_tinyai.host" in cmd and proc.environ().get("JUPYTER_RUNTIME_DIR") == runtime_dir:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def kill_hosts_of(runtime_dir: str) -> None:
    for proc in hosts_of(runtime_dir):
        try:
            proc.kill()
            proc.wait(10)
        except psutil.Error:
            pass


def serve_port(capsys) -> tuple[str, str]:
    """Start ``jupyter tinyai serve --port 0`` in this process's home: (its /v1 URL, the token it
    printed once)."""
    import re

    from jupyter_tinyai import cli

    assert cli.main(["serve", "--port", "0"]) == 0
    out = capsys.readouterr().out
    return re.search(r"OpenAI-compatible API: (\S+)", out).group(1), re.search(r"shown once: (\S+)", out).group(1)
