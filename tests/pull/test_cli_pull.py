"""`jupyter tinyai pull` and `rm` as a user runs them: real processes against a local Hub."""

import os
import re
import signal
import subprocess
import sys
import threading

import pytest

from jupyter_tinyai.cli import main
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.models import list_models
from jupyter_tinyai.models.pull import pull

JUPYTER = [sys.executable, "-m", "jupyter_tinyai.cli"]
REPO = "someone/Tiny-GGUF"
MB = 1000**2


def run(*args, **kwargs):
    kwargs.setdefault("timeout", 120)
    return subprocess.run(JUPYTER + list(args), capture_output=True, text=True, **kwargs)


class Reader:
    """Collects a process's stderr as it comes (progress lines end with \\r, not \\n)."""

    def __init__(self, stream):
        self.text, self.changed = "", threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for char in iter(lambda: stream.read(1), ""):
            with self.changed:
                self.text += char
                self.changed.notify_all()

    def wait_for(self, needle: str, timeout: float = 60) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: needle in self.text, timeout)


@pytest.fixture
def big_repo(hub, gguf_bytes):
    return hub.add(REPO, {"tiny-Q4_K_M.gguf": gguf_bytes("tiny", data_bytes=8 * MB),
                          "tiny-Q8_0.gguf": gguf_bytes("tiny", data_bytes=5 * MB, file_type=7)})


def test_ctrl_c_stops_and_the_same_command_resumes(hub, big_repo):
    size = big_repo.meta("tiny-Q4_K_M.gguf")["size"]
    hub.switches.pause_at = 5 * MB
    proc = subprocess.Popen(JUPYTER + ["pull", REPO], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert hub.paused.wait(60)
    partial = os.path.join(os.environ["HF_HUB_CACHE"], "models--someone--Tiny-GGUF", "blobs",
                           big_repo.meta("tiny-Q4_K_M.gguf")["sha256"] + ".incomplete")
    while not os.path.exists(partial) or os.path.getsize(partial) < 5 * MB:  # the client has it all
        assert proc.poll() is None
        threading.Event().wait(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert re.search(r"stopped: 5\.0 MB of 8\.0 MB are kept in the Hugging Face cache; "
                     r"run `jupyter tinyai pull someone/Tiny-GGUF` again to resume\.\n$", err), err
    assert "Traceback" not in err and out == ""
    hub.switches.pause_at = None
    hub.resume.set()
    again = run("pull", REPO)
    assert again.returncode == 0, again.stderr
    second = hub.gets()[-1]
    assert second.range == f"bytes={5 * MB}-" and second.sent == size - 5 * MB < size
    assert f"pulled {REPO}/tiny-Q4_K_M.gguf (8.0 MB, SHA-256 verified; resumed at 5.0 MB, fetched 3.0 MB)" in again.stdout
    assert "Use it with: jupyter tinyai ask -m llamacpp:tiny-Q4_K_M" in again.stdout
    assert "tiny-Q4_K_M.gguf  " in again.stderr and "MB/s" in again.stderr  # the progress line
    print(f"\nresume after Ctrl-C at 5 of 8 MB: the second run fetched {second.sent / size:.0%} of the file "
          f"({1 - second.sent / size:.0%} saved)")


def test_two_processes_pulling_one_file_download_it_once(hub, big_repo):
    hub.switches.pause_at = 1 * MB
    first = subprocess.Popen(JUPYTER + ["pull", REPO], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert hub.paused.wait(60)
    second = subprocess.Popen(JUPYTER + ["pull", REPO], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    waiting = Reader(second.stderr)
    assert waiting.wait_for("waiting for another download of it"), waiting.text
    hub.resume.set()
    out1, err1 = first.communicate(timeout=60)
    second.wait(60)
    waiting.thread.join(10)
    out2 = second.stdout.read()
    assert first.returncode == second.returncode == 0, (err1, waiting.text)
    assert len(hub.gets()) == 1
    assert "pulled someone/Tiny-GGUF/tiny-Q4_K_M.gguf" in out1
    assert "someone/Tiny-GGUF/tiny-Q4_K_M.gguf is already pulled" in out2


def test_the_token_is_sent_and_never_shown(hub, big_repo, monkeypatch, caplog):
    secret = "hf_TestSecretToken1234567890"
    hub.switches.token = secret
    monkeypatch.setenv("HF_TOKEN", secret)
    ok = run("pull", REPO, "--quant", "Q8_0")
    assert ok.returncode == 0, ok.stderr
    q8 = f"/{REPO}/resolve/{big_repo.commit}/tiny-Q8_0.gguf"
    assert [(r.method, r.path, r.authorization) for r in hub.requests] == [  # and nothing else (no telemetry)
        ("GET", f"/api/models/{REPO}?blobs=true", f"Bearer {secret}"), ("GET", q8, f"Bearer {secret}")]
    monkeypatch.setenv("HF_TOKEN", "hf_WrongToken0987654321")
    bad = run("pull", REPO)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: the Hub refused the token for someone/Tiny-GGUF (401 Unauthorized): check HF_TOKEN")
    caplog.set_level("DEBUG")
    monkeypatch.setenv("HF_TOKEN", secret)
    pull(REPO, settings=load_settings(host="inprocess"))
    everything = ok.stdout + ok.stderr + bad.stdout + bad.stderr + caplog.text
    assert secret not in everything and "hf_WrongToken" not in everything


def test_a_gated_model_says_what_to_do(hub, gguf_bytes):
    hub.add("org/Gated-GGUF", {"g-Q4_K_M.gguf": gguf_bytes("g")}, gated=True)
    out = run("pull", "org/Gated-GGUF")
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert out.stderr.startswith("error: org/Gated-GGUF is gated: accept its licence on ")


def test_rm_says_what_it_frees_and_asks(hub, big_repo, capsys):
    settings = load_settings(host="inprocess")
    pull(REPO, settings=settings)
    pull(REPO, "Q8_0", settings=settings)
    q8 = big_repo.meta("tiny-Q8_0.gguf")["size"]
    refused = run("rm", f"{REPO}/tiny-Q8_0.gguf", stdin=subprocess.DEVNULL)
    assert refused.returncode == 1
    assert refused.stdout.startswith(f"{REPO}/tiny-Q8_0.gguf: deleting 1 file frees 5.0 MB:")
    assert "not deleting without confirmation: run it in a terminal, or add -y" in refused.stderr
    assert {m.quantization for m in list_models(settings) if m.source == "hf-cache"} == {"Q4_K_M", "Q8_0"}
    blobs = os.path.join(os.environ["HF_HUB_CACHE"], "models--someone--Tiny-GGUF", "blobs")
    before = sum(os.path.getsize(os.path.join(blobs, n)) for n in os.listdir(blobs))
    assert main(["rm", "llamacpp:tiny-Q8_0", "-y"]) == 0
    assert "deleted; 5.0 MB freed" in capsys.readouterr().out
    after = sum(os.path.getsize(os.path.join(blobs, n)) for n in os.listdir(blobs))
    assert before - after == q8
    assert [m.quantization for m in list_models(settings) if m.source == "hf-cache"] == ["Q4_K_M"]
    assert main(["rm", REPO, "-y"]) == 0
    assert "deleted; 8.0 MB freed" in capsys.readouterr().out
    assert not os.path.exists(os.path.dirname(blobs))
    assert main(["rm", REPO, "-y"]) == 1
    assert "is not in the Hugging Face cache" in capsys.readouterr().err
    assert main(["rm", "smollm2", "-y"]) == 1
    assert "was not pulled into the Hugging Face cache; rm deletes only pulled models" in capsys.readouterr().err


def test_rm_asks_in_a_terminal(hub, big_repo, capsys, monkeypatch):
    pull(REPO, settings=load_settings(host="inprocess"))

    class Terminal:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    answers = iter(["", "y"])
    monkeypatch.setattr("builtins.input", lambda prompt: (print(prompt, end=""), next(answers))[1])
    assert main(["rm", "tiny-Q4_K_M"]) == 1
    assert capsys.readouterr().out.endswith("Delete? [y/N] nothing deleted\n")
    assert main(["rm", "tiny-Q4_K_M"]) == 0
    assert capsys.readouterr().out.endswith("Delete? [y/N] deleted; 8.0 MB freed\n")
    assert not [m for m in list_models(load_settings()) if m.source == "hf-cache"]


def test_rm_ctrl_d_at_the_question_deletes_nothing(hub, big_repo, capsys, monkeypatch):
    pull(REPO, settings=load_settings(host="inprocess"))

    class Terminal:
        def isatty(self):
            return True

    def end_of_input(prompt):
        print(prompt, end="")
        raise EOFError

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("builtins.input", end_of_input)
    assert main(["rm", "tiny-Q4_K_M"]) == 1
    assert capsys.readouterr().out.endswith("Delete? [y/N] \nnothing deleted\n")
    assert [m for m in list_models(load_settings()) if m.source == "hf-cache"]


def test_an_error_after_progress_starts_on_its_own_line(hub, big_repo, capsys):
    hub.switches.corrupt = True  # found only once the file is downloaded
    assert main(["pull", REPO]) == 1
    err = capsys.readouterr().err
    assert "%" in err, "a progress line was shown"
    assert "\nerror: " in err, "the error line is not written over the progress line"
