"""`jupyter tinyai complete` as an editor runs it: a real process, the real bundled model,
through the shared host; the completion alone on stdout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers.completions import fresh_completion
from helpers.hosts import kill_hosts_of

CLI = [sys.executable, "-m", "jupyter_tinyai.cli", "complete"]
PREFIX = 'def mean(xs):\n    """The mean of xs."""\n    ret'
SUFFIX = "\n\nprint(mean([1, 2]))\n"


def run(*args, stdin=None):
    return subprocess.run(CLI + list(args), input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture
def no_host_left():
    yield
    kill_hosts_of(os.environ["JUPYTER_RUNTIME_DIR"])


@pytest.mark.model
def test_prints_the_completion_alone_from_stdin_and_a_suffix_file(tmp_path, no_host_left):
    (tmp_path / "after.py").write_text(SUFFIX)
    out = run("-", "--suffix", str(tmp_path / "after.py"), "--max-tokens", "16", "--time-budget", "120", stdin=PREFIX)
    assert out.returncode == 0, out.stderr
    wanted = fresh_completion(PREFIX, SUFFIX, max_tokens=16, time_budget=120)
    assert out.stdout == wanted and wanted.strip(), "the completion and nothing else"
    assert out.stderr == ""


def test_bad_input_says_what_to_do(tmp_path):
    missing = run(str(tmp_path / "nope.py"))
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == f"error: cannot read the prefix file {str(tmp_path / 'nope.py')!r}: No such file or directory."
    both = run("-", "--suffix", "-", stdin="x = ")
    assert both.returncode == 1 and "only one of the prefix and the suffix" in both.stderr
    (tmp_path / "empty.py").write_text("   \n")
    empty = run(str(tmp_path / "empty.py"), "--in-process")
    assert empty.returncode == 1 and "no code before the cursor" in empty.stderr
