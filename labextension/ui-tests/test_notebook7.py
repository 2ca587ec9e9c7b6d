"""The sidebar in Notebook 7's shell (served by the same Jupyter server as the lab tests)."""

from __future__ import annotations

import pytest
from test_lab import ANSWER, SIDEBAR, ask, make_notebook, open_sidebar, wait_idle
from ui_helpers import new_page

pytestmark = [pytest.mark.model, pytest.mark.timeout(900)]


def test_sidebar_answers_in_notebook_7(browser, lab):
    make_notebook(lab, "nb7.ipynb", ["city = 'Paris'"])
    page = new_page(browser, lab)
    try:
        page.goto(f"{lab.url}/notebooks/nb7.ipynb?token={lab.token}")
        page.wait_for_selector("#main-panel .jp-Notebook .jp-Cell", timeout=120_000)
        assert page.locator(".jp-LabShell").count() == 0, "this is Notebook 7's shell, not JupyterLab's"
        page.locator(".jp-Notebook .jp-Cell").first.click()
        open_sidebar(page)
        page.locator(f"{SIDEBAR} .jp-TinyAI-context-select").select_option("cell")  # nothing is attached by default
        page.locator(f"{SIDEBAR} .jp-TinyAI-chip", has_text="Code (cell 1)").wait_for()
        ask(page, "What is the capital of France?")
        wait_idle(page)
        assert "Paris" in page.locator(ANSWER).last.locator(".jp-TinyAI-markdown").text_content()
        assert "cell 1" in page.locator(f"{SIDEBAR} .jp-TinyAI-message-user").last.text_content()
    finally:
        page.context.close()
