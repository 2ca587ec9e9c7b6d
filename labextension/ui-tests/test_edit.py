"""Proposed edits in a real JupyterLab and a real browser: "Fix Error with TinyAI" on a real
traceback, "Edit Cell with TinyAI…" with a selection. The answers of POST tinyai/edit are scripted
with Playwright's route (what we do with an answer is under test here, not the model); the
last test runs the real server and the real bundled model.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from ui_helpers import REPO, new_page, wait_until_idle
from ui_helpers import open_notebook as open_with_kernel

pytestmark = pytest.mark.timeout(600)

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
SIDEBAR = "#jupyter-tinyai-sidebar"
BUGGY = "values = [3, 4, 5]\nmean = sum(values) / len(value)\nprint(mean)"
FIXED = "values = [3, 4, 5]\nmean = sum(values) / len(values)\nprint(mean)"
LOOP = "total = 0\nfor v in [1, 2, 3]:\n    total += v\nprint(total)"
DOCS = REPO / "docs"


def make_notebook(lab, name, sources):
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources]
    content = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
               "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    lab.api("PUT", f"/api/contents/{name}", {"type": "notebook", "format": "json", "content": content})


class Script:
    """The server side of POST tinyai/edit: answers each edit with ``answer(request)`` (the
    whole new cell, or None for an answer without code) as the endpoint's JSON lines, and
    records the requests."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[dict] = []

    def __call__(self, route):
        msg = route.request.post_data_json
        self.requests.append(msg)
        code = self.answer(msg)
        text = f"```python\n{code}\n```" if code is not None else "I think the code is fine."
        lines = [{"type": "start", "model": "scripted"}]
        lines += [{"type": "token", "text": text[i : i + 12]} for i in range(0, len(text), 12)]
        if code is not None:
            lines.append({"type": "done", "code": code, "diff": "", "message": None, "answer": text, "stats": None})
        else:
            lines.append({"type": "done", "code": None, "diff": "", "answer": text, "stats": None,
                          "message": "TinyAI answered without code, so there is nothing to apply: ask again."})
        route.fulfill(status=200, content_type="application/x-ndjson", body="".join(json.dumps(m) + "\n" for m in lines))


class RecordingScript(Script):
    """A :class:`Script` that also does what the server does for a request with a
    conversation id: records the turn in the history folder as an inline one (the request
    with the cell and error as context, the proposal as the answer) and names it in done.
    (tests/server/test_edit.py checks that the server writes exactly this.)"""

    def __init__(self, answer, lab):
        super().__init__(answer)
        self.root = Path(lab.env["JUPYTER_DATA_DIR"]) / "tinyai" / "history"

    def __call__(self, route):
        msg = route.request.post_data_json
        cid = msg.get("conversation")
        if cid:
            code = self.answer(msg)
            cell = f" ({msg['cell']})" if msg.get("cell") else ""
            context = [{"label": f"Code{cell}", "text": msg["code"]}, {"label": f"Error{cell}", "text": msg["error"]}]
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / f"{cid}.json").write_text(json.dumps({
                "id": cid, "notebook": msg.get("notebook") or "", "title": "Fix this error.", "inline": True,
                "created": "2026-11-29T10:00:00+00:00", "updated": "2026-11-29T10:00:00+00:00", "model": None,
                "messages": [{"role": "user", "content": "Fix this error.", "context": context},
                             {"role": "assistant", "content": f"```python\n{code}\n```", "model": "scripted"}]}))
        original = route.fulfill

        def fulfill(**kwargs):  # the done line names the recorded conversation
            if cid:
                lines = [json.loads(line) for line in kwargs["body"].splitlines()]
                lines[-1]["conversation"] = cid
                kwargs["body"] = "".join(json.dumps(m) + "\n" for m in lines)
            original(**kwargs)

        route.fulfill = fulfill
        super().__call__(route)


def open_notebook(browser, lab, name, script, color_scheme="light"):
    page = new_page(browser, lab, color_scheme)
    if script is not None:
        page.route(re.compile(r".*/tinyai/edit(\?[^/]*)?$"), script)
    open_with_kernel(page, lab, name)  # cells run before its kernel is idle are dropped
    page.locator(f"{PANEL} .jp-Cell .cm-content").first.wait_for()
    return page


def cell(page, n=0):
    return page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(n)


def source(page, n=0) -> str:
    return "\n".join(cell(page, n).locator(".jp-InputArea .cm-line").all_text_contents())


def run_into_error(page, n=0):
    cell(page, n).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")  # a real kernel raises a real traceback
    error = cell(page, n).locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    error.wait_for(timeout=120_000)
    return error


def fix_error(page, error):
    error.click(button="right")
    page.locator(".lm-Menu-itemLabel", has_text="Fix Error with TinyAI").click()
    edit = page.locator(".jp-TinyAI-edit")
    edit.wait_for()
    return edit


def wait_for_diff(edit):
    edit.locator(".jp-TinyAI-edit-diff .cm-deletedChunk").first.wait_for(timeout=60_000)
    edit.locator(".jp-TinyAI-edit-accept").wait_for()


def execution_count(page, n=0) -> str:
    return cell(page, n).locator(".jp-InputArea-prompt").text_content()


def test_fix_error_shows_a_diff_accept_changes_the_cell_and_ctrl_z_restores_it(browser, lab):
    make_notebook(lab, "fix.ipynb", [BUGGY])
    script = Script(lambda msg: FIXED)
    page = open_notebook(browser, lab, "fix.ipynb", script)
    try:
        edit = fix_error(page, run_into_error(page))
        wait_for_diff(edit)
        request = script.requests[-1]
        assert request["code"] == BUGGY and "NameError" in request["error"] and "len(value)" in request["error"]
        # the diff: the old line deleted, the new one added, nothing else
        assert "len(value)" in edit.locator(".cm-deletedChunk").text_content()
        assert edit.locator(".cm-changedLine").all_text_contents() == ["mean = sum(values) / len(values)"]
        count = execution_count(page)
        edit.locator(".jp-TinyAI-edit-accept").click()
        page.wait_for_function(f"() => !document.querySelector('{PANEL} .jp-TinyAI-edit')")
        assert source(page) == FIXED
        assert execution_count(page) == count, "accepting never runs the cell"
        assert cell(page).locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 1
        # one undo step brings the old code back
        cell(page).locator(".cm-content").click()
        page.keyboard.press("Control+z")
        page.wait_for_function(
            f"() => document.querySelector('{PANEL} .jp-Cell .cm-content').textContent.includes('len(value)')"
        )
        assert source(page) == BUGGY
    finally:
        page.context.close()


def test_reject_leaves_the_cell_untouched(browser, lab):
    make_notebook(lab, "reject.ipynb", [BUGGY])
    page = open_notebook(browser, lab, "reject.ipynb", Script(lambda msg: FIXED))
    try:
        edit = fix_error(page, run_into_error(page))
        wait_for_diff(edit)
        edit.locator(".jp-TinyAI-edit-reject").click()
        page.wait_for_function(f"() => !document.querySelector('{PANEL} .jp-TinyAI-edit')")
        assert source(page) == BUGGY
    finally:
        page.context.close()


def test_an_answer_without_code_is_one_line_and_no_diff(browser, lab):
    make_notebook(lab, "nocode.ipynb", [BUGGY])
    page = open_notebook(browser, lab, "nocode.ipynb", Script(lambda msg: None))
    try:
        edit = fix_error(page, run_into_error(page))
        edit.locator(".jp-TinyAI-edit-status", has_text="nothing to apply").wait_for()
        assert edit.locator(".jp-TinyAI-edit-diff").count() == 0
        assert not edit.locator(".jp-TinyAI-edit-accept").is_visible()
        edit.locator(".jp-TinyAI-edit-reject").click()  # "Dismiss"
        assert source(page) == BUGGY
    finally:
        page.context.close()


def test_a_selection_edit_changes_only_the_selection(browser, lab):
    make_notebook(lab, "select.ipynb", [LOOP])

    def answer(msg):  # the server puts the rewritten selection back into the cell
        start, end = msg["selection"]
        return msg["code"][:start] + "total = sum([1, 2, 3])\n" + msg["code"][end:]

    script = Script(answer)
    page = open_notebook(browser, lab, "select.ipynb", script)
    try:
        lines = cell(page).locator(".cm-line")
        lines.nth(0).click()
        page.keyboard.press("Home")
        for _ in range(3):
            page.keyboard.press("Shift+ArrowDown")  # the first three lines, up to "print"
        cell(page).click(button="right", position={"x": 5, "y": 5})
        page.locator(".lm-Menu-itemLabel", has_text="Edit Selection with TinyAI").click()
        dialog = page.locator(".jp-Dialog")
        dialog.locator("input").fill("use sum")
        dialog.locator("input").press("Enter")
        edit = page.locator(".jp-TinyAI-edit")
        wait_for_diff(edit)
        request = script.requests[-1]
        assert request["instruction"] == "use sum" and request["selection"] == [0, LOOP.index("print")]
        edit.locator(".jp-TinyAI-edit-accept").click()
        page.wait_for_function(f"() => !document.querySelector('{PANEL} .jp-TinyAI-edit')")
        assert source(page) == "total = sum([1, 2, 3])\nprint(total)"
    finally:
        page.context.close()


def test_apply_code_to_cell_shows_the_diff_first(browser, lab):
    """The command the sidebar's "Apply to cell" runs, with the code of a code block."""
    make_notebook(lab, "apply.ipynb", [LOOP])
    page = open_notebook(browser, lab, "apply.ipynb", None)
    try:
        cell(page).locator(".cm-content").click()
        new = "total = sum([1, 2, 3])\nprint(total)"
        page.evaluate("code => window.jupyterapp.commands.execute('tinyai:apply-code-to-cell', { code })", new)
        edit = cell(page).locator(".jp-TinyAI-edit")
        wait_for_diff(edit)
        assert source(page) == LOOP, "nothing changes before Accept"
        edit.locator(".jp-TinyAI-edit-accept").click()
        page.wait_for_function(f"() => !document.querySelector('{PANEL} .jp-TinyAI-edit')")
        assert source(page) == new
    finally:
        page.context.close()


def test_continue_in_sidebar_shows_the_fix_there_and_keeps_the_proposal(browser, lab):
    make_notebook(lab, "cont-fix.ipynb", [BUGGY])
    script = RecordingScript(lambda msg: FIXED, lab)
    page = open_notebook(browser, lab, "cont-fix.ipynb", script)
    try:
        edit = fix_error(page, run_into_error(page))
        wait_for_diff(edit)
        request = script.requests[-1]
        cid = request["conversation"]
        assert request["notebook"] == "cont-fix.ipynb" and request["cell"].startswith("cell 1")
        scroller = f"{PANEL} .jp-WindowedPanel-outer"
        wait_until_idle(page)
        before = page.locator(scroller).evaluate("n => n.scrollTop")
        button = edit.locator(".jp-TinyAI-edit-continue")
        assert button.text_content() == "Continue in sidebar"
        button.click()
        sidebar = page.locator(SIDEBAR)
        sidebar.wait_for(state="visible")
        sidebar.locator(".jp-TinyAI-message-user", has_text="Fix this error.").wait_for()
        answer = sidebar.locator(".jp-TinyAI-message-assistant")
        answer.locator("code", has_text="len(values)").first.wait_for()
        sent = sidebar.locator(".jp-TinyAI-message-user .jp-TinyAI-context-sent summary").all_text_contents()
        assert sent == [f"Sent: Code ({request['cell']})", f"Sent: Error ({request['cell']})"]
        wait_until_idle(page)
        # the proposal stays under the cell, still to accept, and the notebook did not move
        assert edit.is_visible() and edit.locator(".jp-TinyAI-edit-accept").is_visible()
        assert button.text_content() == "Continued in the sidebar" and button.is_disabled()
        assert page.locator(scroller).evaluate("n => n.scrollTop") == before
        assert source(page) == BUGGY
        # kept in History from now on (the sidebar PATCHed it)
        sidebar.locator(".jp-TinyAI-history-button").click()
        section = sidebar.locator(".jp-TinyAI-history-section", has_text="This notebook")
        section.locator(f".jp-TinyAI-history-item[data-id='{cid}']").wait_for()
        assert "inline" not in json.loads((script.root / f"{cid}.json").read_text())
        # and the proposal can still be accepted
        edit.locator(".jp-TinyAI-edit-accept").click()
        page.wait_for_function(f"() => !document.querySelector('{PANEL} .jp-TinyAI-edit')")
        assert source(page) == FIXED
    finally:
        page.context.close()


def _luminance(css: str) -> tuple[float, float]:
    """The luminance (0-255) and alpha of a computed CSS colour: rgb(), rgba() or color(srgb ...)."""
    numbers = [float(v) for v in re.findall(r"[\d.]+", css)]
    if css.startswith("color("):
        r, g, b = (v * 255 for v in numbers[:3])
    else:
        r, g, b = numbers[:3]
    alpha = numbers[3] if len(numbers) > 3 else 1.0
    return 0.2126 * r + 0.7152 * g + 0.0722 * b, alpha


def _is_dark(locator) -> bool:
    """Whether what shows behind ``locator``'s text is dark: its first opaque background up
    the tree; a translucent tint on the way must be a dark-on-dark or faint one (alpha < 0.5)."""
    colours = locator.evaluate(
        """el => { const out = []; let n = el;
                   while (n) { out.push(getComputedStyle(n).backgroundColor); n = n.parentElement; }
                   return out; }"""
    )
    for css in colours:
        if css in ("rgba(0, 0, 0, 0)", "transparent"):
            continue
        luminance, alpha = _luminance(css)
        if alpha >= 0.99:
            return luminance < 128
        if alpha >= 0.5 and luminance >= 128:
            return False
    return False


def test_dark_theme_diff(browser, lab):
    make_notebook(lab, "dark.ipynb", [BUGGY])
    themes = "/lab/api/settings/@jupyterlab/apputils-extension:themes"
    lab.api("PUT", themes, {"raw": json.dumps({"theme": "JupyterLab Dark"})})
    page = open_notebook(browser, lab, "dark.ipynb", Script(lambda msg: FIXED), color_scheme="dark")
    try:
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=60_000)
        edit = fix_error(page, run_into_error(page))
        wait_for_diff(edit)
        assert _is_dark(edit)
        assert _is_dark(edit.locator(".jp-TinyAI-edit-diff .cm-editor"))
        assert _is_dark(edit.locator(".cm-changedLine").first)  # a tint on the dark background
        text = edit.locator(".cm-changedLine").first.evaluate("el => getComputedStyle(el).color")
        assert _luminance(text)[0] > 128, "light text on the dark diff"
        if os.environ.get("TINYAI_SCREENSHOTS") == "1":
            box = cell(page).bounding_box()
            page.screenshot(path=str(DOCS / "edit-dark.png"), clip={
                "x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]})
    finally:
        lab.api("PUT", themes, {"raw": json.dumps({"theme": "JupyterLab Light"})})
        page.context.close()


@pytest.mark.model
def test_fix_error_with_the_real_model(browser, lab):
    """The whole way: the server, the host and the bundled model. The 135M model may propose
    a fix or nothing: either way a diff or one line, never an empty proposal."""
    make_notebook(lab, "real.ipynb", [BUGGY])
    page = open_notebook(browser, lab, "real.ipynb", None)
    try:
        edit = fix_error(page, run_into_error(page))
        page.wait_for_function(
            "() => { const e = document.querySelector('.jp-TinyAI-edit');"
            " return e && !e.classList.contains('jp-mod-busy'); }", timeout=300_000)
        diff = edit.locator(".jp-TinyAI-edit-diff")
        status = edit.locator(".jp-TinyAI-edit-status").text_content()
        assert diff.count() == 1 or status.strip(), "a diff, or one line saying why there is none"
        edit.locator(".jp-TinyAI-edit-reject").click()
        assert source(page) == BUGGY
    finally:
        page.context.close()


@pytest.mark.model
def test_continue_in_sidebar_with_the_real_server_and_model(browser, lab):
    """The whole way: the server records the fix's turn, the sidebar reads it and keeps it."""
    make_notebook(lab, "cont-real.ipynb", [BUGGY])
    page = open_notebook(browser, lab, "cont-real.ipynb", None)
    try:
        edit = fix_error(page, run_into_error(page))
        button = edit.locator(".jp-TinyAI-edit-continue")
        button.wait_for(timeout=300_000)  # once the answer is over (a diff, or one line)
        stored = {path.stem: json.loads(path.read_text()) for path in
                  (Path(lab.env["JUPYTER_DATA_DIR"]) / "tinyai" / "history").glob("*.json")}
        (cid, data), = [(k, v) for k, v in stored.items() if v.get("notebook") == "cont-real.ipynb"]
        assert data["inline"] is True and [m["role"] for m in data["messages"]] == ["user", "assistant"]
        assert data["messages"][0]["content"] == "Fix this error." and "len(value)" in data["messages"][0]["context"][0]["text"]
        button.click()
        sidebar = page.locator(SIDEBAR)
        sidebar.locator(".jp-TinyAI-message-user", has_text="Fix this error.").wait_for()
        sidebar.locator(".jp-TinyAI-message-assistant").wait_for()
        page.wait_for_function(f"() => document.querySelector('{PANEL} .jp-TinyAI-edit-continue').disabled")
        assert edit.is_visible() and source(page) == BUGGY
        sidebar.locator(".jp-TinyAI-history-button").click()  # kept in History now
        sidebar.locator(f".jp-TinyAI-history-item[data-id='{cid}']").wait_for()
        history = Path(lab.env["JUPYTER_DATA_DIR"]) / "tinyai" / "history" / f"{cid}.json"
        assert "inline" not in json.loads(history.read_text())
    finally:
        page.context.close()
