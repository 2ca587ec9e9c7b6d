"""Pull the real bundled model from the local Hub, then ask it: the whole path a user takes."""

import subprocess
import sys

import pytest

from jupyter_tinyai.models.sources import bundled_path

pytestmark = pytest.mark.model

JUPYTER = [sys.executable, "-m", "jupyter_tinyai.cli"]


def test_pull_then_ask_the_pulled_model(hub):
    hub.add("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", {"smollm2-chat-Q4_1.gguf": bundled_path()})
    pulled = subprocess.run(JUPYTER + ["pull", "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"],
                            capture_output=True, text=True, timeout=300)
    assert pulled.returncode == 0, pulled.stderr
    assert "Use it with: jupyter tinyai ask -m llamacpp:smollm2-chat-Q4_1" in pulled.stdout
    listed = subprocess.run(JUPYTER + ["models", "--in-process"], capture_output=True, text=True, timeout=120)
    row = next(line for line in listed.stdout.splitlines() if line.startswith("llamacpp:smollm2-chat-Q4_1"))
    assert "hf-cache:" in row and "Q4_1" in row
    answer = subprocess.run(JUPYTER + ["ask", "--in-process", "-m", "smollm2-chat", "What is the capital of France?"],
                            capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stderr
    assert "Paris" in answer.stdout
    assert answer.stderr.strip().splitlines()[-1].startswith("llamacpp:smollm2-chat-Q4_1 · ")
