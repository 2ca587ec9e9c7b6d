"""``%tinyai pull`` and ``%tinyai catalog`` in a real kernel, against the local Hub
(tests/helpers/fake_hub.py behind HF_ENDPOINT, loopback): the progress bar, Cancel, the
catalog's Download buttons. No model is loaded."""

from __future__ import annotations

import os

import pytest
from helpers.fake_hub import FakeHub
from helpers.gguf_files import tiny_model_metadata, write_gguf

MB = 1024 * 1024
REPO = "someone/Tiny-GGUF"
FILE = "tiny-Q4_K_M.gguf"
CATALOG_REPO = "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF"  # the catalog's qwen2.5-coder-0.5b
CATALOG_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


@pytest.fixture
def hub(monkeypatch, tmp_path):
    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)  # the kernel's environment is this one's
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with open(write_gguf(tmp_path / "tiny.gguf", tiny_model_metadata(name="tiny"), data_bytes=4 * MB), "rb") as f:
        data = f.read()
    server.add(REPO, {FILE: data})
    server.add(CATALOG_REPO, {CATALOG_FILE: data})
    server.switches.pause_at = 1 * MB
    yield server
    server.stop()


def _opened(cell, description: str) -> list:
    """comm ids of the widgets opened by ``cell`` whose description is ``description``."""
    return [m["content"]["comm_id"] for m in cell.of_type("comm_open")
            if m["content"]["data"]["state"].get("description") == description]


def _update_of(comm_id: str, key: str, test):
    """A predicate for kernel.wait_for: widget ``comm_id``'s ``key`` was set to a value passing ``test``."""
    def predicate(msg) -> bool:
        if msg["msg_type"] != "comm_msg" or msg["content"]["comm_id"] != comm_id:
            return False
        state = msg["content"]["data"].get("state", {})
        return key in state and test(state[key])
    return predicate


def _line_of(cell) -> str:
    """The HTML line under the progress bar (the first HTML widget opened)."""
    return next(m["content"]["comm_id"] for m in cell.of_type("comm_open")
                if m["content"]["data"]["state"].get("_model_name") == "HTMLModel")


def test_pull_shows_a_progress_bar_then_the_model_is_listed(hub, new_kernel):
    kernel = new_kernel()
    cell = kernel.run(f"%tinyai pull {REPO}")
    assert cell.status == "ok", cell.errors  # the cell returns; the pull goes on in the kernel
    [bar] = _opened(cell, "Pulling")
    assert _opened(cell, "Cancel")
    assert hub.paused.wait(60)
    kernel.wait_for(_update_of(bar, "value", lambda v: 0 < v < 1))
    hub.resume.set()
    kernel.wait_for(_update_of(_line_of(cell), "value", lambda v: "use it with %tinyai use" in v))
    listing = kernel.run("%tinyai models")
    assert "hf-cache" in listing.stdout and "tiny" in listing.stdout.lower()
    assert len(hub.gets(FILE)) == 1


def test_cancel_stops_the_pull_and_keeps_the_partial_file(hub, new_kernel):
    kernel = new_kernel()
    cell = kernel.run(f"%tinyai pull {REPO}")
    [cancel] = _opened(cell, "Cancel")
    assert hub.paused.wait(60)
    kernel.click(cancel)
    kernel.wait_for(_update_of(_line_of(cell), "value", lambda v: "pull again to resume" in v))
    sha = hub.repos[REPO].meta(FILE)["sha256"]
    cache = kernel.value("__import__('os').environ['HF_HUB_CACHE']")  # the kernel's own home
    partial = os.path.join(cache, "models--someone--Tiny-GGUF", "blobs", sha + ".incomplete")
    assert os.path.getsize(partial) > 0


def test_catalog_has_badges_and_its_download_button_pulls(hub, new_kernel):
    kernel = new_kernel()
    cell = kernel.run("%tinyai catalog")
    assert cell.status == "ok", cell.errors
    texts = [m["content"]["data"]["state"].get("value", "") for m in cell.of_type("comm_open")
             if m["content"]["data"]["state"].get("_model_name") == "HTMLModel"]
    assert any("This machine:" in t for t in texts)
    entries = [t for t in texts if 'class="tinyai-badge"' in t]
    assert len(entries) >= 10 and all(any(b in t for b in (">fits<", ">tight<", ">too large<")) for t in entries)
    downloads = _opened(cell, "Download")
    assert len(downloads) == len(entries)
    button = next(m["content"]["comm_id"] for m in cell.of_type("comm_open")  # its tooltip: the pull command
                  if m["content"]["data"]["state"].get("tooltip") == "jupyter tinyai pull qwen2.5-coder-0.5b")
    kernel.click(button)
    hub.resume.set()
    kernel.wait_for(lambda m: m["msg_type"] == "comm_msg"
                    and "use it with %tinyai use" in str(m["content"]["data"].get("state", {}).get("value", "")))
    assert len(hub.gets(CATALOG_FILE)) == 1


def test_pull_usage_is_one_line(new_kernel):
    kernel = new_kernel()
    cell = kernel.run("%tinyai pull")
    assert cell.status == "error"
    assert "write %tinyai pull NAME" in cell.errors[0]["traceback"][0]
