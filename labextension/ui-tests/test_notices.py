"""The sidebar shows each server warning once, as a dismissible line: a bad model file (not
offered in the model picker) and a damaged chat history file (set aside by the server)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from ui_helpers import REPO, new_page, open_lab

sys.path.insert(0, str(REPO / "tests"))
from helpers.gguf_files import tiny_model_metadata, write_gguf  # noqa: E402

pytestmark = pytest.mark.timeout(300)
SIDEBAR = "#jupyter-tinyai-sidebar"
NOTICE = f"{SIDEBAR} .jp-TinyAI-notice"


def test_bad_files_are_one_dismissible_line_each(browser, lab):
    metadata = tiny_model_metadata()
    metadata["general.file_type"] = [1, 2]
    bad = write_gguf(Path(lab.env["HF_HUB_CACHE"], "models--x--Bad", "snapshots", "r1", "bad.gguf"), metadata)
    history = Path(lab.env["JUPYTER_DATA_DIR"], "tinyai", "history")
    history.mkdir(parents=True, exist_ok=True)
    (history / "broken-ui.json").write_text(json.dumps({"id": "broken-ui", "title": "t", "updated": None}))
    page = new_page(browser, lab)
    try:
        open_lab(page, lab, "")
        page.keyboard.press("Control+Shift+Y")
        page.locator(SIDEBAR).wait_for(state="visible")
        page.locator(NOTICE).nth(1).wait_for()
        texts = page.locator(NOTICE).all_text_contents()
        assert len(texts) == 2
        assert any(bad in t for t in texts) and any("broken-ui.json.damaged-" in t for t in texts)
        assert [p.name for p in history.iterdir() if p.name.startswith("broken-ui")] != ["broken-ui.json"]
        options = page.locator(f"{SIDEBAR} .jp-TinyAI-model-select option")
        assert all(v for v in options.evaluate_all("os => os.map(o => o.value)"))  # no empty 'model'
        assert any("SmolLM2" in t for t in options.all_text_contents())
        for _ in texts:
            page.locator(f"{NOTICE} .jp-TinyAI-notice-dismiss").first.click()
        assert page.locator(NOTICE).count() == 0
        # shown once: listing again (the bad model file is still there) does not bring it back;
        # a new bad file, in the same listing, is the sign that the listing was read
        write_gguf(Path(bad).with_name("bad2.gguf"), metadata)
        tab = page.locator(f".jp-SideBar .lm-TabBar-tab[data-id='{SIDEBAR[1:]}']")
        tab.click()  # closes the sidebar
        page.locator(SIDEBAR).wait_for(state="hidden")
        tab.click()  # opens it again: it lists the models again
        page.locator(NOTICE, has_text="bad2.gguf").wait_for()
        assert page.locator(NOTICE).count() == 1
    finally:
        page.context.close()
        for path in (bad, Path(bad).with_name("bad2.gguf")):
            if os.path.exists(path):
                os.remove(path)
