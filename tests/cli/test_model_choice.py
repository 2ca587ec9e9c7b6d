"""`jupyter tinyai ask` through the shared host: `-m` and `--adapter` are for that answer
only, and a remote gets nothing it was not asked for by name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers.fake_remote import CountingRemote
from helpers.hosts import kill_hosts_of
from helpers.lora import write_gguf_lora

pytestmark = [pytest.mark.model, pytest.mark.timeout(600)]

BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"


def ask(*args):
    out = subprocess.run([sys.executable, "-m", "jupyter_tinyai.cli", "ask", "--max-tokens", "8", *args],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout, out.stderr.strip().splitlines()[-1]  # the answer, the figures line


@pytest.fixture
def remote():
    server = CountingRemote("m1")
    with open(os.path.join(os.environ["JUPYTER_CONFIG_DIR"], "jupyter_tinyai_config.py"), "w") as f:
        f.write(f"c.TinyAI.remotes = {{'lab': {{'url': {server.url!r}}}}}\n")
    yield server
    server.stop()
    kill_hosts_of(os.environ["JUPYTER_RUNTIME_DIR"])


def test_a_plain_ask_after_ask_m_remote_stays_on_this_machine(remote):
    answer, figures = ask("-m", "lab:m1", "Hello")
    assert answer.strip() == remote.answer and figures.startswith("lab:m1 · ")
    seen = len(remote.requests)
    answer, figures = ask("What is the capital of France? (secret)")
    assert "Paris" in answer and figures.startswith(f"{BUNDLED} · ")
    assert remote.requests[seen:] == []


def test_adapter_applies_to_the_default_model_and_does_not_stick(remote, model_path, tmp_path):
    adapter = write_gguf_lora(tmp_path / "zero-lora.gguf", model_path, zero_b=True)
    _, figures = ask("What is the capital of France?")  # the host has the default model loaded
    assert "adapter" not in figures
    _, figures = ask("--adapter", adapter, "What is the capital of France?")
    assert figures.startswith(f"{BUNDLED} · ") and figures.endswith("· adapter zero-lora.gguf")
    _, figures = ask("What is the capital of France?")
    assert figures.startswith(f"{BUNDLED} · ") and "adapter" not in figures
