"""`jupyter tinyai …` writing into a pipe whose reader left (`status | head -1`): it stops
quietly, without a BrokenPipeError traceback."""

from __future__ import annotations

import subprocess
import sys

CLI = [sys.executable, "-m", "jupyter_tinyai.cli"]


def test_status_into_a_closed_pipe_exits_quietly():
    proc = subprocess.Popen([*CLI, "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 141  # as a command killed by SIGPIPE
    assert err == ""


def test_status_piped_into_head():
    shell = subprocess.run(["sh", "-c", '"$@" status | head -1', "sh", *CLI], capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0 and shell.stderr == ""
    assert shell.stdout.startswith("model:") and shell.stdout.count("\n") == 1
