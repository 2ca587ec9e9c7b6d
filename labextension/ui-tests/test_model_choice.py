"""The sidebar's model picker starts at the configured default, not at a model another client
loaded, and each chat message carries the pick (real JupyterLab, model and browser)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from test_lab import SIDEBAR, ask, open_sidebar, wait_idle
from ui_helpers import new_page, open_lab

from jupyter_tinyai.models import bundled_path

pytestmark = [pytest.mark.model, pytest.mark.timeout(900)]

BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"


def tinyai(lab, *args):
    out = subprocess.run([sys.executable, "-m", "jupyter_tinyai.cli", *args], env=lab.env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


@pytest.fixture
def other_loaded(lab, tmp_path):
    """Another listed model (a copy of the bundled file), loaded by another client."""
    copy = tmp_path / "other-model.gguf"
    shutil.copyfile(bundled_path(), copy)
    tinyai(lab, "models", "--add", str(copy))
    loaded = lab.api("POST", "/tinyai/models/load", {"model": "llamacpp:other-model"})["model"]["id"]
    assert loaded == "llamacpp:other-model"
    yield loaded
    tinyai(lab, "models", "--remove", str(copy))
    lab.api("POST", "/tinyai/models/load", {"model": BUNDLED})


def test_the_picker_starts_at_the_default_and_the_chat_uses_it(browser, lab, other_loaded):
    page = new_page(browser, lab)
    try:
        open_lab(page, lab)
        open_sidebar(page)
        select = page.locator(f"{SIDEBAR} .jp-TinyAI-model-select")
        page.wait_for_function(
            "() => document.querySelectorAll('#jupyter-tinyai-sidebar .jp-TinyAI-model-select option').length >= 2"
        )
        assert select.input_value() == BUNDLED
        ask(page, "What is the capital of France?")
        wait_idle(page)
        assert lab.api("GET", "/tinyai/status")["model"]["id"] == BUNDLED  # the chat carried the pick
    finally:
        page.context.close()
