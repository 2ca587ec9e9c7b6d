"""Inline completion ("TinyAI" provider) in a real JupyterLab, real model, real browser: ghost
text as you type, Tab inserts it, typing on never shows a stale suggestion, Escape hides it,
the settings make it manual or turn it off."""

from __future__ import annotations

import json

import pytest
from ui_helpers import new_page, open_lab

NOTEBOOK = "completion.ipynb"
CODE = 'import numpy as np\n\n\ndef mean_squared_error(y_true, y_pred):\n    """The mean of the squared errors."""\n    '
SETTINGS = "/lab/api/settings/jupyter-tinyai:plugin"
CELL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
GHOST = ".jp-GhostText"
pytestmark = [pytest.mark.model, pytest.mark.timeout(900)]

# Recorded in the page: each completion request's code before the cursor and, once its stream
# has ended, the whole completion; each ghost text shown, in order.
PROBE = r"""
(() => {
  const probe = (window.__completion = { answers: [], asked: 0, ghosts: [] });
  const native = window.fetch;
  window.fetch = async (...args) => {
    const request = args[0];
    const url = typeof request === 'string' ? request : request.url;
    if (!String(url).includes('/tinyai/complete')) return native(...args);
    probe.asked += 1;
    const raw = args[1] && args[1].body ? args[1].body : (typeof request === 'string' ? '{}' : await request.clone().text());
    const body = JSON.parse(raw || '{}');
    const response = await native(...args);
    response.clone().text().then(text => {
      const lines = text.split('\n').filter(l => l.trim()).map(l => JSON.parse(l));
      probe.answers.push({ before: body.before, text: lines.map(l => l.text || '').join(''),
                           done: lines.some(l => l.stats) });
    }).catch(() => probe.answers.push({ before: body.before, text: '', done: false }));
    return response;
  };
  new MutationObserver(() => {
    const ghost = document.querySelector('.jp-GhostText');
    const text = ghost ? ghost.innerText : null;
    if (probe.ghosts[probe.ghosts.length - 1] !== text) probe.ghosts.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();
"""


def make_notebook(lab, name, sources):
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources]
    content = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                            "language_info": {"name": "python"}},
               "nbformat": 4, "nbformat_minor": 5}
    lab.api("PUT", f"/api/contents/{name}", {"type": "notebook", "format": "json", "content": content})


def set_settings(lab, **values):
    lab.api("PUT", SETTINGS, {"raw": json.dumps(values)})


def open_page(browser, lab):
    page = new_page(browser, lab)
    page.context.add_init_script(PROBE)
    open_lab(page, lab, NOTEBOOK)
    page.wait_for_selector(CELL)
    return page


def cell_text(page, index=1) -> str:
    """The cell's source as the editor holds it (ghost text left out)."""
    return page.evaluate(
        """i => { const cell = document.querySelectorAll(arguments_cell)[i];
                  const content = cell.querySelector('.cm-content').cloneNode(true);
                  content.querySelectorAll('.jp-GhostText, .jp-GhostText-lineSpacer, .jp-GhostText-letterSpacer')
                         .forEach(n => n.remove());
                  return Array.from(content.querySelectorAll('.cm-line')).map(l => l.textContent).join('\\n'); }"""
        .replace("arguments_cell", json.dumps(CELL)),
        index,
    )


def edit_at_end(page, index=1):
    """Put the cursor at the end of cell ``index``, in edit mode."""
    page.locator(CELL).nth(index).locator(".cm-content").click()
    page.keyboard.press("Control+End")


def wait_for_answer(page, before: str) -> str:
    """The whole completion the server streamed for ``before`` (once its stream ended)."""
    page.wait_for_function(
        "b => window.__completion.answers.some(a => a.before === b && a.done)", arg=before, timeout=300_000
    )
    answers = page.evaluate("b => window.__completion.answers.filter(a => a.before === b && a.done)", before)
    return answers[-1]["text"]


def ghost_line(ghost: str) -> str:
    """The first line of a ghost text as shown (hidden lines come after a ⇓)."""
    return ghost.split("⇓", 1)[0].split("\n", 1)[0]


@pytest.fixture(scope="module")
def page(browser, lab):
    make_notebook(lab, NOTEBOOK, ["x = 1", CODE])
    set_settings(lab, completionEnabled=True, completionTrigger="automatic", completionDebounce=150)
    page = open_page(browser, lab)
    yield page
    page.context.close()


def test_typing_shows_ghost_text_and_tab_inserts_it(page):
    edit_at_end(page)
    page.keyboard.type("ret", delay=30)
    before = CODE + "ret"
    answer = wait_for_answer(page, before)
    assert answer.strip(), "the model suggested nothing"
    ghost = page.locator(GHOST)
    ghost.wait_for(state="visible", timeout=120_000)
    page.locator(".jp-GhostText-streamingIndicator").wait_for(state="detached", timeout=120_000)
    assert answer.startswith(ghost_line(ghost.inner_text()))
    page.keyboard.press("Tab")
    page.wait_for_function("() => !document.querySelector('.jp-GhostText')")
    assert cell_text(page) == before + answer, "Tab inserted the whole suggestion"
    # undo, for the next tests
    page.keyboard.press("Control+z")
    page.wait_for_function(
        "([sel, text]) => !document.querySelectorAll(sel)[1].querySelector('.cm-content').textContent.endsWith(text)",
        arg=[CELL, answer.rstrip()[-8:]],
    )


def test_typing_on_never_shows_a_stale_suggestion(page):
    edit_at_end(page)
    start = cell_text(page)
    page.keyboard.type("ret", delay=30)
    answer = wait_for_answer(page, start + "ret")
    page.locator(GHOST).wait_for(state="visible", timeout=120_000)
    # a letter the suggestion does not go on with: the suggestion is stale now
    letter = next(c for c in "qzjxkv" if not answer.startswith(c))
    seen = page.evaluate("() => window.__completion.ghosts.length")
    page.keyboard.type(letter)
    before = start + "ret" + letter
    assert cell_text(page) == before
    wait_for_answer(page, before)
    page.wait_for_function("() => !document.querySelector('.jp-GhostText-streamingIndicator')", timeout=120_000)
    answers = page.evaluate("() => window.__completion.answers")
    for ghost in page.evaluate("n => window.__completion.ghosts.slice(n)", seen):
        if not ghost:
            continue
        shown = ghost_line(ghost)
        assert any(before.startswith(a["before"]) and (a["before"] + a["text"]).startswith(before + shown) for a in answers), (
            f"{shown!r} was shown after {before[-12:]!r}, and no completion of that text says so"
        )
    # Escape hides the suggestion
    if page.locator(GHOST).count():
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('.jp-GhostText')")
        assert cell_text(page) == before, "Escape inserted nothing"


def test_manual_trigger_and_off(browser, lab, page):
    set_settings(lab, completionEnabled=True, completionTrigger="manual", completionDebounce=0)
    manual = open_page(browser, lab)
    try:
        edit_at_end(manual)
        start = cell_text(manual)
        manual.keyboard.type("ret", delay=30)
        manual.evaluate("() => new Promise(resolve => requestIdleCallback(() => resolve(), { timeout: 30000 }))")
        assert manual.evaluate("() => window.__completion.asked") == 0, "manual: typing asks nothing"
        manual.keyboard.press("Alt+\\")  # JupyterLab's Invoke Inline Completer
        assert wait_for_answer(manual, start + "ret") is not None
        manual.locator(GHOST).wait_for(state="visible", timeout=120_000)
        manual.keyboard.press("Escape")
    finally:
        manual.context.close()

    set_settings(lab, completionEnabled=False, completionTrigger="automatic", completionDebounce=0)
    off = open_page(browser, lab)
    try:
        edit_at_end(off)
        off.keyboard.type("ret", delay=30)
        off.keyboard.press("Alt+\\")
        off.evaluate("() => new Promise(resolve => requestIdleCallback(() => resolve(), { timeout: 30000 }))")
        assert off.evaluate("() => window.__completion.asked") == 0, "off: nothing is asked, even by the command"
        assert off.locator(GHOST).count() == 0
    finally:
        off.context.close()
        set_settings(lab, completionEnabled=True, completionTrigger="automatic", completionDebounce=150)


def test_ghost_text_in_notebook_7(browser, lab, page):
    make_notebook(lab, "nb7-completion.ipynb", ["x = 1", CODE])
    nb7 = new_page(browser, lab)
    nb7.context.add_init_script(PROBE)
    try:
        nb7.goto(f"{lab.url}/notebooks/nb7-completion.ipynb?token={lab.token}")
        nb7.wait_for_selector(f"#main-panel {CELL}", timeout=120_000)
        assert nb7.locator(".jp-LabShell").count() == 0, "this is Notebook 7's shell, not JupyterLab's"
        edit_at_end(nb7)
        nb7.keyboard.type("ret", delay=30)
        answer = wait_for_answer(nb7, CODE + "ret")
        ghost = nb7.locator(GHOST)
        ghost.wait_for(state="visible", timeout=120_000)
        nb7.locator(".jp-GhostText-streamingIndicator").wait_for(state="detached", timeout=120_000)
        assert answer.startswith(ghost_line(ghost.inner_text()))
        nb7.keyboard.press("Tab")
        nb7.wait_for_function("() => !document.querySelector('.jp-GhostText')")
        assert cell_text(nb7) == CODE + "ret" + answer
    finally:
        nb7.context.close()
