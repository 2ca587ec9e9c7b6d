""""Get more models…" in JupyterLab: the catalog with fit badges, a download with its progress
bar that survives a page reload, then the model in the sidebar's picker. The Hub is the local
stand-in of conftest.py (HF_ENDPOINT, loopback) serving a small generated GGUF under the name
of a catalog model; no model answers here."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from helpers.gguf_files import tiny_model_metadata, write_gguf
from test_lab import SIDEBAR, open_sidebar
from ui_helpers import new_page, open_lab

pytestmark = pytest.mark.timeout(900)

REPO = "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF"  # the catalog's qwen2.5-coder-0.5b
FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MB = 1024 * 1024
ENTRY = '.jp-TinyAI-catalog-entry[data-name="qwen2.5-coder-0.5b"]'


@pytest.fixture
def served(fake_hub, lab, tmp_path):
    """The catalog model's repo on the local Hub, its download held at 2 MB of 6 MB."""
    path = write_gguf(tmp_path / FILE, tiny_model_metadata(name="qwen2.5-coder-0.5b-instruct"), data_bytes=6 * MB)
    fake_hub.add(REPO, {FILE: pathlib.Path(path).read_bytes()})
    fake_hub.switches.pause_at = 2 * MB
    fake_hub.paused.clear()
    fake_hub.resume.clear()
    yield fake_hub
    fake_hub.switches.pause_at = None
    fake_hub.resume.set()
    fake_hub.repos.pop(REPO, None)
    subprocess.run([sys.executable, "-m", "jupyter_tinyai.cli", "rm", "-y", REPO], env=lab.env,
                   capture_output=True, text=True, timeout=120, check=False)
    for pull in lab.api("GET", "/tinyai/pulls")["pulls"]:
        lab.api("DELETE", f"/tinyai/pulls/{pull['id']}")


def open_catalog(page):
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Get more models")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{ENTRY} .jp-TinyAI-badge")


def test_download_with_progress_across_a_reload_then_it_is_in_the_picker(browser, lab, served):
    page = new_page(browser, lab)
    try:
        open_lab(page, lab)
        open_catalog(page)
        badges = page.locator(".jp-TinyAI-catalog-entry .jp-TinyAI-badge").all_inner_texts()
        assert len(badges) >= 10 and set(badges) <= {"fits", "tight", "too large"}, badges
        page.locator(f"{ENTRY} .jp-TinyAI-catalog-download").click()
        assert served.paused.wait(60)
        bar = page.locator(f"{ENTRY} progress.jp-TinyAI-catalog-progress")
        page.wait_for_function(
            f"() => {{ const b = document.querySelector('{ENTRY} progress'); return b && b.value > 0 && b.value < 1; }}"
        )
        assert page.locator(f"{ENTRY} .jp-TinyAI-catalog-cancel").is_visible()
        assert FILE in page.locator(f"{ENTRY} .jp-TinyAI-catalog-line").inner_text()

        page.reload()  # the download goes on in the server; the catalog finds it again
        page.wait_for_selector(".jp-LabShell", timeout=120_000)
        # restored with the workspace when JupyterLab saved it before the reload; opening it
        # again shows the one catalog either way (a fresh lab saves its workspace late)
        open_catalog(page)
        bar.wait_for()
        page.wait_for_function(f"() => document.querySelector('{ENTRY} progress').value > 0")
        assert page.locator(f"{ENTRY}").get_attribute("data-state") == "running"

        open_sidebar(page)
        served.resume.set()
        page.wait_for_selector(f'{ENTRY}[data-state="done"]')
        pulled = [p for p in lab.api("GET", "/tinyai/pulls")["pulls"] if p["state"] == "done"]
        assert len(pulled) == 1 and len(served.gets(FILE)) == 1  # one download, not restarted by the reload
        model_id = pulled[0]["model"]["id"]
        page.wait_for_function(
            "id => [...document.querySelectorAll('" + SIDEBAR + " .jp-TinyAI-model-select option')]"
            ".some(o => o.value === id)",
            arg=model_id,
        )
    finally:
        page.context.close()


def test_cancel_stops_the_download(browser, lab, served):
    page = new_page(browser, lab)
    try:
        open_lab(page, lab)
        open_catalog(page)
        page.locator(f"{ENTRY} .jp-TinyAI-catalog-download").click()
        assert served.paused.wait(60)
        page.locator(f"{ENTRY} .jp-TinyAI-catalog-cancel").click()
        page.wait_for_selector(f'{ENTRY}[data-state="cancelled"]')
        assert "pull again to resume" in page.locator(f"{ENTRY} .jp-TinyAI-catalog-line").inner_text()
        assert page.locator(f"{ENTRY} .jp-TinyAI-catalog-download").inner_text() == "Download again"
    finally:
        page.context.close()
