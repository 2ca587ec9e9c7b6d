"""`jupyter tinyai` as a user runs it: a real process, the real bundled model."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

JUPYTER = [sys.executable, "-m", "jupyter_tinyai.cli"]


def run(*args, stdin=None, timeout=180):
    return subprocess.run(JUPYTER + list(args), input=stdin, capture_output=True, text=True, timeout=timeout)


@pytest.mark.model
def test_ask_streams_the_answer_and_prints_figures():
    out = run("ask", "--in-process", "What is the capital of France?")
    assert out.returncode == 0, out.stderr
    assert "Paris" in out.stdout
    figures = out.stderr.strip().splitlines()[-1]
    assert figures.startswith("llamacpp:SmolLM2-135M-Instruct-Q4_1 · ")
    assert "prompt +" in figures and "first token" in figures and "tokens/s" in figures


@pytest.mark.model
def test_ask_reads_the_prompt_from_stdin():
    out = run("ask", "--in-process", "-q", "-", stdin="What is the capital of Germany?\n")
    assert out.returncode == 0, out.stderr
    assert "Berlin" in out.stdout
    assert out.stderr == ""


@pytest.mark.model
def test_ask_options():
    out = run("ask", "--in-process", "--max-tokens", "5", "--system", "You answer in French.", "--temperature", "0.5", "--seed", "7", "Hello")
    assert out.returncode == 0, out.stderr
    assert "+ 5 tokens" in out.stderr and out.stderr.rstrip().endswith(" · cut at --max-tokens")


def test_out_of_range_options_are_refused_with_the_range():
    for args, message in (
        (("-t", "nan"), "argument -t/--temperature: 'temperature' must be a number from 0 to 2, not nan."),
        (("--max-tokens", "-5"), "argument --max-tokens: 'max_tokens' must be a whole number from 1 to 1,000,000, not -5."),
        (("--seed", "-7"), "argument --seed: 'seed' must be a whole number from 0 to 4294967295, or -1 for a new seed each time, not -7."),
    ):
        out = run("ask", "--in-process", *args, "Hello")
        assert out.returncode == 2 and out.stderr.strip().endswith(message), out.stderr
        assert out.stdout == ""


@pytest.mark.model
def test_gpu_and_kv_cache_options():
    out = run("ask", "--in-process", "-q", "--gpu-layers", "0", "--kv-cache-type", "q8_0", "What is the capital of France?")
    assert out.returncode == 0, out.stderr
    assert "Paris" in out.stdout
    out = run("ask", "--in-process", "--kv-cache-type", "q4_0", "--flash-attention", "off", "Hi")
    assert out.returncode == 1 and out.stderr.startswith("error: c.TinyAI.kv_cache_type = 'q4_0' needs flash attention")
    assert len(out.stderr.strip().splitlines()) == 1
    out = run("ask", "--in-process", "--gpu-layers", "-2", "Hi")
    assert out.returncode == 2 and "--gpu-layers: '-2': use -1 (as many layers as fit)" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_model_is_one_line():
    out = run("ask", "--in-process", "-m", "no-such-model", "Hi")
    assert out.returncode == 1
    assert out.stderr.startswith("error: no model named 'no-such-model'.")
    assert "Traceback" not in out.stderr


def test_empty_prompt():
    out = run("ask", "--in-process", "  ")
    assert out.returncode == 1 and "the prompt is empty" in out.stderr


def test_models_table_and_json():
    out = run("models", "--in-process")
    assert out.returncode == 0, out.stderr
    header, row = out.stdout.splitlines()[:2]
    assert header.split() == ["ID", "BACKEND", "FORMAT", "SIZE", "CONTEXT", "FOUND", "IN"]
    assert row.split()[:7] == ["llamacpp:SmolLM2-135M-Instruct-Q4_1", "llamacpp", "gguf", "Q4_1", "98.4", "MB", "8192"]
    assert "bundled:" in row
    models = json.loads(run("models", "--in-process", "--json").stdout)
    assert models[0]["source"] == "bundled"


@pytest.mark.model
def test_ctrl_c_keeps_the_partial_answer():
    proc = subprocess.Popen(
        JUPYTER + ["ask", "--in-process", "--max-tokens", "400", "Write a long story about a lighthouse keeper."],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    first = proc.stdout.read(20)  # blocks until the answer streams
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert first.strip()
    assert "stopped" in err and "Traceback" not in err
    assert len(first + rest) < 1500, "generation stopped early"


def test_help_lists_every_command():
    out = run("--help")
    for command in ("ask", "models", "status"):
        assert command in out.stdout
    ask_help = run("ask", "--help").stdout
    for option in ("--model", "--system", "--temperature", "--max-tokens", "--seed"):
        assert option in ask_help


def _unshare_works() -> str | None:
    if not shutil.which("unshare"):
        return "unshare is not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"unshare -n is not allowed here: {probe.stderr.strip()}"


@pytest.mark.skipif(_unshare_works() is not None, reason=str(_unshare_works()))
@pytest.mark.model
def test_ask_works_with_no_network_at_all():
    """The main job inside a network namespace that has no network interface up."""
    cmd = ["unshare", "-n"] + JUPYTER + ["ask", "--in-process", "What is the capital of France?"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env={**os.environ, "HF_HUB_OFFLINE": "0"})
    assert out.returncode == 0, out.stderr
    assert "Paris" in out.stdout


@pytest.mark.model
def test_the_tiny_model_hint_is_one_line_until_another_model_is_present(tmp_path):
    from helpers.gguf_files import tiny_model_metadata, write_gguf

    out = run("ask", "--in-process", "--max-tokens", "8", "Hi")
    assert out.returncode == 0, out.stderr
    hints = [line for line in out.stderr.splitlines() if line.startswith("hint: ")]
    assert len(hints) == 1, out.stderr
    assert "tiny model for trying things out" in hints[0] and "jupyter tinyai pull " in hints[0]
    assert out.stderr.strip().splitlines()[-1].startswith("llamacpp:SmolLM2-135M-Instruct-Q4_1 · ")  # figures last
    assert "hint" not in out.stdout
    path = write_gguf(tmp_path / "mine.Q4_K_M.gguf", tiny_model_metadata(name="mine"))
    assert run("models", "--add", str(path)).returncode == 0
    out = run("ask", "--in-process", "--max-tokens", "8", "Hi")
    assert out.returncode == 0, out.stderr
    assert "hint: " not in out.stderr
