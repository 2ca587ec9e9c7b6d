"""One model state (real JupyterLab, host, model and browser): a model picked outside the
sidebar — through the host, as a notebook's `%tinyai use` does — shows in the sidebar's
picker, its "tiny model" note and its status line without a reload, and the sidebar's next
answer uses it instead of loading its own choice again."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from test_lab import SIDEBAR, ask, open_sidebar, wait_idle
from ui_helpers import new_page, open_lab

from jupyter_tinyai.models import bundled_path

pytestmark = [pytest.mark.model, pytest.mark.timeout(900)]

BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"
OTHER = "llamacpp:other-model"


def tinyai(lab, *args):
    out = subprocess.run([sys.executable, "-m", "jupyter_tinyai.cli", *args], env=lab.env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def pick_like_a_kernel(lab, model: str) -> None:
    """What `%tinyai use` does in a kernel: the shared client's load, straight to the host
    (not through the Jupyter server)."""
    code = f"from jupyter_tinyai.api import default_client; print(default_client().load({model!r}).id)"
    out = subprocess.run([sys.executable, "-c", code], env=lab.env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == model, out.stderr


@pytest.fixture
def other_model(lab, tmp_path):
    """Another listed model (a copy of the bundled file); the bundled one loaded."""
    copy = tmp_path / "other-model.gguf"
    shutil.copyfile(bundled_path(), copy)
    tinyai(lab, "models", "--add", str(copy))
    pick_like_a_kernel(lab, BUNDLED)
    yield OTHER
    tinyai(lab, "models", "--remove", str(copy))
    pick_like_a_kernel(lab, BUNDLED)


def test_a_pick_made_elsewhere_shows_in_the_sidebar_and_its_next_answer_uses_it(browser, lab, other_model):
    page = new_page(browser, lab)
    try:
        open_lab(page, lab)
        open_sidebar(page)
        select = page.locator(f"{SIDEBAR} .jp-TinyAI-model-select")
        note = page.locator(f"{SIDEBAR} .jp-TinyAI-model-note")
        status = page.locator(f"{SIDEBAR} .jp-TinyAI-status")
        page.wait_for_function(
            "() => document.querySelectorAll('#jupyter-tinyai-sidebar .jp-TinyAI-model-select option').length >= 2"
        )
        page.wait_for_function(f"""() => document.querySelector('{SIDEBAR} .jp-TinyAI-model-select').value === {BUNDLED!r}""")
        assert note.is_visible() and "tiny model" in note.text_content()

        page.evaluate(f"""() => {{
            const status = document.querySelector('{SIDEBAR} .jp-TinyAI-status');
            window.__statusTexts = [];
            new MutationObserver(() => window.__statusTexts.push(status.textContent))
                .observe(status, {{ childList: true, characterData: true, subtree: true }});
        }}""")
        pick_like_a_kernel(lab, other_model)
        page.wait_for_function(
            f"""() => {{
                const select = document.querySelector('{SIDEBAR} .jp-TinyAI-model-select');
                return select.value === {OTHER!r} && select.selectedOptions[0].textContent === 'other-model (loaded)';
            }}""",
            timeout=60_000,
        )
        page.wait_for_function(
            f"() => document.querySelector('{SIDEBAR} .jp-TinyAI-status').textContent.startsWith('other-model · CPU')"
        )
        assert not note.is_visible()
        assert select.input_value() == OTHER
        assert "Loading other-model…" in page.evaluate("() => window.__statusTexts")  # while it loaded

        ask(page, "What is the capital of France?")
        wait_idle(page)
        assert lab.api("GET", "/tinyai/status")["model"]["id"] == OTHER  # no reload of the sidebar's own choice
        page.wait_for_function(
            f"() => /^other-model · CPU.* tokens\\/s$/.test(document.querySelector('{SIDEBAR} .jp-TinyAI-status').textContent)"
        )
        assert "·" in status.text_content()
    finally:
        page.context.close()


def test_a_model_added_meanwhile_appears_when_the_picker_is_opened(browser, lab, tmp_path):
    page = new_page(browser, lab)
    copy = tmp_path / "added-later.gguf"
    try:
        open_lab(page, lab)
        open_sidebar(page)
        options = page.locator(f"{SIDEBAR} .jp-TinyAI-model-select option")
        page.wait_for_function(
            "() => document.querySelectorAll('#jupyter-tinyai-sidebar .jp-TinyAI-model-select option').length >= 1"
        )
        assert "added-later" not in " ".join(options.all_text_contents())
        shutil.copyfile(bundled_path(), copy)
        tinyai(lab, "models", "--add", str(copy))
        page.locator(f"{SIDEBAR} .jp-TinyAI-model-select").focus()
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{SIDEBAR} .jp-TinyAI-model-select option')]"
            ".some(o => o.textContent === 'added-later')"
        )
    finally:
        tinyai(lab, "models", "--remove", str(copy))
        page.context.close()


def test_an_inline_explanation_uses_the_model_picked_elsewhere(browser, lab, other_model):
    from test_lab import cells, make_notebook

    make_notebook(lab, "choice.ipynb", ["x = [1, 2, 3]\nprint(sum(x))"])
    page = new_page(browser, lab)
    try:
        open_lab(page, lab, "choice.ipynb")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
        open_sidebar(page)
        page.wait_for_function(f"""() => document.querySelector('{SIDEBAR} .jp-TinyAI-model-select').value === {BUNDLED!r}""")
        pick_like_a_kernel(lab, other_model)
        page.wait_for_function(f"""() => document.querySelector('{SIDEBAR} .jp-TinyAI-model-select').value === {OTHER!r}""")
        first = cells(page).first
        first.click(button="right")
        page.locator(".lm-Menu-itemLabel", has_text="Explain Code with TinyAI").click()
        inline = first.locator(".jp-TinyAI-inline")
        inline.locator(".jp-TinyAI-markdown").filter(has_text=re.compile(r"\w")).wait_for(timeout=120_000)
        page.wait_for_function(
            "() => !document.querySelector('.jp-TinyAI-inline').matches('.jp-mod-busy, :has(.jp-mod-rendering)')",
            timeout=300_000,
        )
        assert lab.api("GET", "/tinyai/status")["model"]["id"] == OTHER  # not the server's default, reloaded
    finally:
        page.context.close()


def test_the_pickers_get_more_models_entry_opens_the_catalog(browser, lab):
    page = new_page(browser, lab)
    try:
        open_lab(page, lab)
        open_sidebar(page)
        select = page.locator(f"{SIDEBAR} .jp-TinyAI-model-select")
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{SIDEBAR} .jp-TinyAI-model-select option')]"
            ".some(o => o.textContent === 'Get more models…')"
        )
        page.wait_for_function(f"() => document.querySelector('{SIDEBAR} .jp-TinyAI-model-select').value === {BUNDLED!r}")
        chosen = select.input_value()
        select.select_option(label="Get more models…")
        page.wait_for_selector(".jp-TinyAI-catalog-entry .jp-TinyAI-badge")
        assert select.input_value() == chosen  # the picker keeps the model
    finally:
        page.context.close()
