"""The sidebar's chat behaviour (issue 13): what is attached to a prompt, scrolling, code
blocks, keys, queue and errors. The chat WebSocket is scripted with Playwright's
route_web_socket: the model is not under test here (test_lab.py runs the real one)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ui_helpers import new_page, open_lab, wait_until_idle

pytestmark = pytest.mark.timeout(300)
SIDEBAR = "#jupyter-tinyai-sidebar"
NOTEBOOK_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def make_notebook(lab, name, cells):
    """`cells`: (cell_type, source) pairs."""
    content = {
        "cells": [
            {"cell_type": t, "metadata": {}, "source": s, **({"outputs": [], "execution_count": None} if t == "code" else {})}
            for t, s in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    lab.api("PUT", f"/api/contents/{name}", {"type": "notebook", "format": "json", "content": content})


class Server:
    """A scripted chat WebSocket: records what the sidebar sends; `answer(msg, ws)` replies
    (default: the text of `reply`, in one token, then done)."""

    def __init__(self, reply="Fine.", answer=None):
        self.received = []
        self.reply = reply
        self.answer = answer or self._answer
        self.sockets = []

    def _answer(self, msg, ws):
        ws.send(json.dumps({"type": "start", "id": msg["id"]}))
        ws.send(json.dumps({"type": "token", "id": msg["id"], "text": self.reply}))
        ws.send(json.dumps({"type": "done", "id": msg["id"], "text": self.reply,
                            "stats": {"finish_reason": "stop", "generated_tokens": 3}}))

    def __call__(self, ws):
        self.sockets.append(ws)

        def on_message(raw):
            msg = json.loads(raw)
            self.received.append(msg)
            if msg.get("type") == "chat":
                self.answer(msg, ws)
        ws.on_message(on_message)

    @property
    def chats(self):
        return [m for m in self.received if m.get("type") == "chat"]


def open_sidebar(page):
    if not page.locator(SIDEBAR).is_visible():
        page.keyboard.press("Control+Shift+Y")
    page.locator(SIDEBAR).wait_for(state="visible")


def start(browser, lab, server, path=""):
    page = new_page(browser, lab)
    page.route_web_socket(re.compile(r".*/tinyai/chat.*"), server)
    open_lab(page, lab, path)
    open_sidebar(page)
    page.locator(f"{SIDEBAR} .jp-TinyAI-new-chat").click()
    return page


def ask(page, prompt):
    box = page.locator(f"{SIDEBAR} .jp-TinyAI-input")
    box.fill(prompt)
    box.press("Enter")


def wait_idle(page):
    page.wait_for_function(
        """() => document.querySelector('#jupyter-tinyai-sidebar').dataset.phase === 'idle'
                 && !document.querySelector('#jupyter-tinyai-sidebar .jp-TinyAI-message.jp-mod-rendering')"""
    )


def until(page, condition, tries=600):
    """Wait until `condition()` (on what the scripted socket received) holds; Playwright
    delivers the socket's messages while the page waits."""
    for _ in range(tries):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("the condition never held")


def chips(page):
    return page.locator(f"{SIDEBAR} .jp-TinyAI-chip .jp-TinyAI-chip-label")


# Item 1: context is explicit.
def test_nothing_is_attached_unless_chosen_and_the_choice_survives_a_reload(browser, lab):
    make_notebook(lab, "context.ipynb", [("markdown", "# Sales report"), ("code", "values = [1, 2]\ntotal = sum(values)")])
    server = Server()
    page = start(browser, lab, server, "context.ipynb")
    try:
        select = page.locator(f"{SIDEBAR} .jp-TinyAI-context-select")
        assert select.input_value() == "none"
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell").nth(1).click()
        ask(page, "what is numpy?")
        wait_idle(page)
        assert server.chats[-1]["context"] == []  # no silent context
        assert chips(page).count() == 0

        select.select_option("cell")
        page.locator(f"{NOTEBOOK_PANEL} .jp-MarkdownCell").click()
        chips(page).filter(has_text="Markdown (cell 1)").wait_for()  # a Markdown cell is not called Code
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line", has_text="total").click()
        chips(page).filter(has_text="Code (cell 2)").wait_for()
        page.locator(f"{SIDEBAR} .jp-TinyAI-chip-remove").click()  # taken off: not sent
        assert chips(page).count() == 0
        ask(page, "and now?")
        wait_idle(page)
        assert server.chats[-1]["context"] == []

        page.reload()
        page.locator(".jp-LabShell").wait_for()
        open_sidebar(page)
        select = page.locator(f"{SIDEBAR} .jp-TinyAI-context-select")
        page.wait_for_function(
            "() => document.querySelector('#jupyter-tinyai-sidebar .jp-TinyAI-context-select').value === 'cell'")

        select.select_option("none")  # nothing, or the selection when there is one
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line", has_text="total").click()
        page.keyboard.press("Home")
        page.keyboard.press("Shift+End")  # selects the line
        chips(page).filter(has_text="Selection (cell 2)").wait_for()
        ask(page, "explain")
        wait_idle(page)
        assert server.chats[-1]["context"] == [{"label": "Selection (cell 2)", "text": "total = sum(values)"}]
    finally:
        page.context.close()


AT_BOTTOM = """() => { const n = document.querySelector('#jupyter-tinyai-sidebar .jp-TinyAI-messages');
  return n.scrollHeight > n.clientHeight && n.scrollHeight - n.scrollTop - n.clientHeight < 24; }"""
SCROLL_UP = "() => { const n = document.querySelector('#jupyter-tinyai-sidebar .jp-TinyAI-messages'); n.scrollTop = 0; }"
LONG = "\n\n".join(f"Paragraph {i}: the answer goes on for a while." for i in range(12))


def history_root(lab):
    return Path(lab.env["JUPYTER_DATA_DIR"]) / "tinyai" / "history"


def store_conversation(lab, cid, notebook, turns, updated="2026-11-28T10:00:00+00:00", **extra):
    """A conversation in the server's history folder, as the server writes them (the
    scripted socket stands in for the server's chat, which would have written it)."""
    root = history_root(lab)
    root.mkdir(parents=True, exist_ok=True)
    messages = []
    for prompt, answer in turns:
        messages += [{"role": "user", "content": prompt, "context": []},
                     {"role": "assistant", "content": answer, "stats": {"finish_reason": "stop"}}]
    (root / f"{cid}.json").write_text(json.dumps({
        "id": cid, "notebook": notebook, "title": turns[0][0], "created": updated, "updated": updated,
        "model": None, "messages": messages, **extra}))


# Item 2: the newest message is in view.
def test_the_chat_opens_at_its_newest_message_follows_sends_and_offers_new_messages(browser, lab):
    make_notebook(lab, "scroll.ipynb", [("code", "x = 1")])
    store_conversation(lab, "scrollconv", "scroll.ipynb", [(f"question {i}", LONG) for i in range(6)])
    streaming = {}

    def answer(msg, ws):
        ws.send(json.dumps({"type": "start", "id": msg["id"]}))
        ws.send(json.dumps({"type": "token", "id": msg["id"], "text": "First words. "}))
        if msg["prompt"] == "stream":
            streaming["id"] = msg["id"]  # the test sends the rest
            return
        ws.send(json.dumps({"type": "token", "id": msg["id"], "text": LONG}))
        ws.send(json.dumps({"type": "done", "id": msg["id"], "stats": {"finish_reason": "stop"}}))

    server = Server(answer=answer)
    page = new_page(browser, lab)
    page.route_web_socket(re.compile(r".*/tinyai/chat.*"), server)
    try:
        open_lab(page, lab, "scroll.ipynb")
        open_sidebar(page)
        page.locator(f"{SIDEBAR} .jp-TinyAI-message-user", has_text="question 5").wait_for()
        page.wait_for_function(AT_BOTTOM)  # opened at its newest message, not its first

        page.evaluate(SCROLL_UP)
        ask(page, "next")
        wait_idle(page)
        page.wait_for_function(AT_BOTTOM)  # a send shows the new question and its answer
        jump = page.locator(f"{SIDEBAR} .jp-TinyAI-jump")
        assert not jump.is_visible()

        ask(page, "stream")
        page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant", has_text="First words.").last.wait_for()
        page.wait_for_function("() => !document.querySelector('#jupyter-tinyai-sidebar .jp-mod-rendering')")
        wait_until_idle(page)
        page.evaluate(SCROLL_UP)
        wait_until_idle(page)  # the scroll event
        ws = server.sockets[-1]
        ws.send(json.dumps({"type": "token", "id": streaming["id"], "text": LONG}))
        jump.wait_for()  # text arrived below the user's view
        assert page.evaluate(AT_BOTTOM) is False  # and the view was left where the user put it
        jump.click()
        page.wait_for_function(AT_BOTTOM)
        jump.wait_for(state="hidden")
        ws.send(json.dumps({"type": "token", "id": streaming["id"], "text": "\n\nMore. " * 10}))
        ws.send(json.dumps({"type": "done", "id": streaming["id"], "stats": {"finish_reason": "stop"}}))
        wait_idle(page)
        page.wait_for_function(AT_BOTTOM)  # followed to the end

        page.locator(f"{SIDEBAR} .jp-TinyAI-context-select").select_option("cell")
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line", has_text="x = 1").click()
        chips(page).first.wait_for()  # the attachments take room above the input
        page.wait_for_function(AT_BOTTOM)  # the answer stays in view
    finally:
        page.context.close()


def code_answer(code):
    return f"Here:\n\n```python\n{code}\n```\n"


# Item 3: Replace selection needs a selection.
def test_replace_selection_is_disabled_without_a_selection_and_never_glues_code(browser, lab):
    make_notebook(lab, "glue.ipynb", [("code", "%load_ext jupyter_tinyai\nOLD")])
    server = Server(reply=code_answer("import numpy as np"))
    page = start(browser, lab, server, "glue.ipynb")
    try:
        line = page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line", has_text="load_ext")
        line.click()
        page.keyboard.press("End")  # a cursor, nothing selected
        ask(page, "import numpy")
        wait_idle(page)
        replace = page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant .jp-TinyAI-replace")
        assert replace.is_disabled()
        replace.click(force=True)  # a click on the disabled button changes nothing
        lines = page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line").all_text_contents()
        assert lines == ["%load_ext jupyter_tinyai", "OLD"]
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line", has_text="OLD").click()
        page.keyboard.press("Home")
        page.keyboard.press("Shift+End")
        page.wait_for_function("() => !document.querySelector('#jupyter-tinyai-sidebar .jp-TinyAI-replace').disabled")
        replace.click()
        page.wait_for_function(
            "() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content').textContent.includes('numpy')")
        lines = page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line").all_text_contents()
        assert lines == ["%load_ext jupyter_tinyai", "import numpy as np"]
    finally:
        page.context.close()


# Item 10: code blocks.
LONG_LINE = "result = " + " + ".join(f"values[{i}]" for i in range(30))
LONG_CODE = "\n".join([LONG_LINE] + [f"step_{i} = {i}" for i in range(80)])


def test_code_blocks_scroll_sideways_with_icon_buttons_that_stay_in_view(browser, lab):
    server = Server(reply=code_answer(LONG_CODE))
    page = start(browser, lab, server)
    try:
        page.wait_for_function("() => !!window.jupyterapp")
        page.evaluate("""() => window.jupyterapp.commands.addCommand('tinyai:apply-code-to-cell', {
            label: 'Apply', execute: args => { window.__applied = args.code; } })""")
        ask(page, "long code")
        wait_idle(page)
        block = page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant .jp-TinyAI-code").last
        pre = block.locator("pre")
        # one line per statement: scrolls sideways instead of wrapping
        assert pre.evaluate("p => p.scrollWidth > p.clientWidth + 50")
        assert pre.evaluate("p => getComputedStyle(p).whiteSpace") == "pre"
        buttons = block.locator(".jp-TinyAI-code-toolbar button")
        assert buttons.count() == 4  # copy, insert below, replace selection, apply to cell
        assert all(not t.strip() for t in buttons.all_text_contents())  # icons, named by their titles
        tops = {round(b["y"]) for b in (buttons.nth(i).bounding_box() for i in range(4))}
        assert len(tops) == 1, "the buttons sit in one row"
        # scrolled to the middle of the long code, the buttons are still at the top of the view
        page.evaluate("""() => { const n = document.querySelector('#jupyter-tinyai-sidebar .jp-TinyAI-messages');
            const b = n.querySelector('.jp-TinyAI-code'); n.scrollTop = b.offsetTop + b.offsetHeight / 2; }""")
        wait_until_idle(page)
        view = page.locator(f"{SIDEBAR} .jp-TinyAI-messages").bounding_box()
        bar = block.locator(".jp-TinyAI-code-toolbar").bounding_box()
        assert view["y"] - 1 <= bar["y"] <= view["y"] + 30
        copy = block.locator(".jp-TinyAI-copy")
        copy.click()
        copy.filter(has_text="Copied ✓").wait_for()
        block.locator(".jp-TinyAI-apply").click()
        page.wait_for_function("() => window.__applied !== undefined")
        assert page.evaluate("() => window.__applied") == LONG_CODE
    finally:
        page.context.close()


# Item 15: keys.
def test_escape_stops_up_recalls_and_enter_while_streaming_says_why(browser, lab):
    streaming = {}

    def answer(msg, ws):
        ws.send(json.dumps({"type": "start", "id": msg["id"]}))
        ws.send(json.dumps({"type": "token", "id": msg["id"], "text": "Still writing"}))
        streaming["id"] = msg["id"]

    server = Server(answer=answer)

    def on_stop():
        for m in server.received:
            if m.get("type") == "stop" and m["id"] == streaming.get("id") and not m.get("_answered"):
                m["_answered"] = True
                server.sockets[-1].send(json.dumps({"type": "done", "id": m["id"], "stats": {"finish_reason": "cancelled"}}))

    page = start(browser, lab, server)
    try:
        box = page.locator(f"{SIDEBAR} .jp-TinyAI-input")
        ask(page, "tell me a long story")
        page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant", has_text="Still writing").wait_for()
        box.fill("a second question")
        box.press("Enter")  # not sent while the answer is coming: says why, keeps the text
        hint = page.locator(f"{SIDEBAR} .jp-TinyAI-hint")
        hint.wait_for()
        assert "Esc to stop" in hint.text_content()
        assert box.input_value() == "a second question"
        assert len(server.chats) == 1
        box.press("Escape")
        until(page, lambda: any(m.get("type") == "stop" for m in server.received))
        on_stop()
        wait_idle(page)
        assert hint.is_hidden()

        # Stop by the button: the focus comes back to the prompt box
        box.fill("")
        box.press("ArrowUp")  # recalls the last prompt
        assert box.input_value() == "tell me a long story"
        box.press("Enter")
        page.locator(f"{SIDEBAR} .jp-TinyAI-stop").click()
        page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('jp-TinyAI-input')")
        until(page, lambda: sum(m.get("type") == "stop" for m in server.received) == 2)
        on_stop()
        wait_idle(page)
        assert len(server.chats) == 2 and server.chats[1]["prompt"] == "tell me a long story"
    finally:
        page.context.close()


# Item 5: the wait for the model is said, and counted.
def test_an_answer_waiting_for_the_model_says_its_place_and_the_wait_is_in_its_figures(browser, lab):
    waiting = {}

    def answer(msg, ws):  # what the server sends while a %%ask holds the host's model
        ws.send(json.dumps({"type": "queued", "id": msg["id"], "position": 2}))
        waiting["id"] = msg["id"]

    server = Server(answer=answer)
    page = start(browser, lab, server)
    try:
        ask(page, "hello")
        note = page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant .jp-TinyAI-queued")
        note.filter(has_text="2 requests ahead of yours").wait_for()
        ws, rid = server.sockets[-1], waiting["id"]
        ws.send(json.dumps({"type": "queued", "id": rid, "position": 1}))
        note.filter(has_text="yours is next").wait_for()
        ws.send(json.dumps({"type": "start", "id": rid}))
        ws.send(json.dumps({"type": "token", "id": rid, "text": "Hi."}))
        ws.send(json.dumps({"type": "done", "id": rid, "text": "Hi.",
                            "stats": {"generated_tokens": 2, "ttft_s": 0.26, "finish_reason": "stop"}}))
        wait_idle(page)
        stats = page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant .jp-TinyAI-stats").text_content()
        assert re.match(r"waited \d+\.\d s for the model · .*first token 0\.26 s", stats), stats
        assert note.count() == 0
    finally:
        page.context.close()


def open_file(page, path):
    """Open `path` in this page's JupyterLab (its command, as the file browser does)."""
    page.wait_for_function("() => !!window.jupyterapp")
    page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', { path })", path)
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=path).wait_for()


def ago(**delta):
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) - timedelta(**delta)).isoformat()


# Item 6: a chat started with no notebook open is kept, and listed under its own heading.
def test_a_chat_started_without_a_notebook_stays_when_one_opens_and_is_in_history(browser, lab):
    make_notebook(lab, "later.ipynb", [("code", "x = 1")])
    server = Server()
    page = start(browser, lab, server)
    try:
        ask(page, "hello before any notebook")
        wait_idle(page)
        first = server.chats[0]
        assert first["notebook"] is None
        store_conversation(lab, first["conversation"], "", [("hello before any notebook", "Fine.")], updated=ago(minutes=5))
        open_file(page, "later.ipynb")
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell").first.wait_for()
        prompts = page.locator(f"{SIDEBAR} .jp-TinyAI-message-user")
        assert prompts.all_text_contents() == ["hello before any notebook"]  # still on screen
        page.locator(f"{SIDEBAR} .jp-TinyAI-history-button").click()
        loose = page.locator(f"{SIDEBAR} .jp-TinyAI-history-section", has_text="Without a notebook")
        loose.locator(".jp-TinyAI-history-name", has_text="hello before any notebook").wait_for()
        assert "5 min ago" in loose.locator(".jp-TinyAI-history-meta").first.text_content()
        ask(page, "a follow-up")
        wait_idle(page)
        assert server.chats[-1]["conversation"] == first["conversation"]
        assert server.chats[-1]["notebook"] is None  # it stays a chat of no notebook
    finally:
        page.context.close()


# Item 7: History titles, dates, inline explanations left out, delete with Undo.
def test_history_tells_conversations_apart_hides_dismissed_explanations_and_undoes_a_delete(browser, lab):
    make_notebook(lab, "hist.ipynb", [("code", "x = 1")])
    store_conversation(lab, "plot1", "hist.ipynb", [("plot the data", "ok"), ("now in red", "ok")], updated=ago(hours=2))
    store_conversation(lab, "plot2", "hist.ipynb", [("plot the data", "ok")], updated=ago(days=1, hours=2))
    store_conversation(lab, "expl1", "hist.ipynb", [("Explain what this code does.", "It adds.")], inline=True)
    page = start(browser, lab, Server(), "hist.ipynb")
    try:
        page.locator(f"{SIDEBAR} .jp-TinyAI-history-button").click()
        rows = page.locator(f"{SIDEBAR} .jp-TinyAI-history-section", has_text="This notebook").locator(".jp-TinyAI-history-item")
        rows.first.wait_for()
        rows.nth(1).wait_for()
        assert [r.get_attribute("data-id") for r in rows.all()] == ["plot1", "plot2"]  # no dismissed explanation
        assert "last: now in red" in rows.nth(0).text_content()  # same title, told apart
        assert "2 h ago · 4 messages" in rows.nth(0).text_content()
        assert "yesterday · 2 messages" in rows.nth(1).text_content()

        rows.nth(1).locator(".jp-TinyAI-history-delete").click()
        undo = page.locator(f"{SIDEBAR} .jp-TinyAI-history-undo")
        undo.wait_for()
        assert "Deleted “plot the data”." in undo.text_content()
        assert [r.get_attribute("data-id") for r in rows.all()] == ["plot1"]
        undo.locator("button", has_text="Undo").click()
        undo.wait_for(state="hidden")
        rows.nth(1).wait_for()
        assert [r.get_attribute("data-id") for r in rows.all()] == ["plot1", "plot2"]
        assert (history_root(lab) / "plot2.json").exists()

        rows.nth(1).locator(".jp-TinyAI-history-delete").click()
        undo.wait_for(state="hidden", timeout=30_000)  # deleted for good after a few seconds
        assert not (history_root(lab) / "plot2.json").exists()
        assert (history_root(lab) / "plot1.json").exists()
    finally:
        page.context.close()


# Item 8: an empty chat welcomes; a Launcher tile; a distinctive icon.
def test_an_empty_chat_welcomes_with_examples_and_shortcuts_and_the_launcher_opens_it(browser, lab):
    server = Server()
    page = start(browser, lab, server)
    try:
        welcome = page.locator(f"{SIDEBAR} .jp-TinyAI-welcome")
        welcome.wait_for()
        assert welcome.locator("h2").text_content() == "TinyAI chat"
        assert "Esc" in welcome.locator(".jp-TinyAI-shortcuts").text_content()
        examples = welcome.locator(".jp-TinyAI-example")
        assert examples.count() == 3
        first = examples.first.text_content()
        examples.first.click()
        box = page.locator(f"{SIDEBAR} .jp-TinyAI-input")
        assert box.input_value() == first
        box.press("Enter")
        page.locator(f"{SIDEBAR} .jp-TinyAI-message-user", has_text=first).wait_for()
        assert welcome.is_hidden()
        assert server.chats[-1]["prompt"] == first

        tab = page.locator(".jp-SideBar .lm-TabBar-tab[data-id='jupyter-tinyai-sidebar']")
        assert tab.locator("svg .jp-icon-brand1").count() == 1  # the chip with a spark
        page.evaluate("() => window.jupyterapp.shell.collapseRight()")
        page.locator(SIDEBAR).wait_for(state="hidden")
        page.evaluate("() => window.jupyterapp.commands.execute('launcher:create')")
        tile = page.locator(".jp-LauncherCard", has_text="Open the TinyAI Chat")
        tile.click()
        page.locator(SIDEBAR).wait_for(state="visible")
    finally:
        page.context.close()


# Item 12: the explain commands lead the cell's context menu, with their shortcut.
def test_explain_leads_the_cell_context_menu_with_its_shortcut(browser, lab):
    make_notebook(lab, "menu.ipynb", [("code", "a = 1"), ("code", "b = 2")])
    server = Server(reply="It sets b.")
    page = start(browser, lab, server, "menu.ipynb")
    try:
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line", has_text="a = 1").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+ArrowDown")  # cells 1 and 2 selected, cell 2 active
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell.jp-mod-active .cm-line", has_text="b = 2").wait_for()
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .jp-InputPrompt").nth(0).click(button="right")
        items = page.locator(".lm-Menu .lm-Menu-item:not(.lm-mod-hidden):not(.lm-mod-collapsed)")
        items.first.wait_for()
        first = items.first
        assert first.locator(".lm-Menu-itemLabel").text_content() == "Explain Code with TinyAI"
        assert first.locator(".lm-Menu-itemShortcut").text_content().strip() != ""  # Ctrl+Alt+E
        assert items.nth(1).get_attribute("data-type") == "separator"  # then the notebook's own
        first.click()
        inline = page.locator(f"{NOTEBOOK_PANEL} .jp-Cell").nth(0).locator(".jp-TinyAI-inline")
        inline.locator(".jp-TinyAI-markdown", has_text="It sets b.").wait_for()  # the cell right-clicked
        assert server.chats[-1]["context"][0]["text"] == "a = 1"
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line", has_text="b = 2").click()
        page.keyboard.press("Control+Alt+e")  # the shortcut: the active cell, not the one right-clicked before
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell").nth(1).locator(".jp-TinyAI-inline").wait_for()
        assert server.chats[-1]["context"][0]["text"] == "b = 2"
    finally:
        page.context.close()


# Item 16: Continue in sidebar keeps the explanation where it is, and says which cell.
def test_continue_in_sidebar_keeps_the_explanation_and_names_the_cell(browser, lab):
    make_notebook(lab, "cont.ipynb", [("code", f"v{i} = {i}") for i in range(30)])
    server = Server(reply="It sets v25.")
    page = start(browser, lab, server, "cont.ipynb")
    try:
        page.locator(f"{NOTEBOOK_PANEL} .jp-Cell .cm-line", has_text="v25 = 25").click()
        page.keyboard.press("Control+Alt+e")
        inline = page.locator(f"{NOTEBOOK_PANEL} .jp-TinyAI-inline")
        inline.locator(".jp-TinyAI-markdown", has_text="It sets v25.").wait_for()
        chat = server.chats[-1]
        assert chat["inline"] is True
        assert [c["label"] for c in chat["context"]] == ["Code (cell 26)"]
        # what the server would have saved for this explanation (inline: out of History)
        store_conversation(lab, chat["conversation"], "cont.ipynb", [(chat["prompt"], "It sets v25.")], inline=True)
        scroller = f"{NOTEBOOK_PANEL} .jp-WindowedPanel-outer"
        wait_until_idle(page)
        before = page.locator(scroller).evaluate("n => n.scrollTop")
        inline.locator(".jp-TinyAI-inline-continue").click()
        page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant", has_text="It sets v25.").wait_for()
        wait_until_idle(page)
        assert inline.is_visible()  # kept in the notebook
        assert page.locator(scroller).evaluate("n => n.scrollTop") == before  # no jump
        sent = page.locator(f"{SIDEBAR} .jp-TinyAI-message-user .jp-TinyAI-context-sent summary")
        assert sent.text_content() == "Sent: Code (cell 26)"
        page.locator(f"{SIDEBAR} .jp-TinyAI-history-button").click()
        section = page.locator(f"{SIDEBAR} .jp-TinyAI-history-section", has_text="This notebook")
        section.locator(f".jp-TinyAI-history-item[data-id='{chat['conversation']}']").wait_for()  # now in History
    finally:
        page.context.close()


# Item 18: each answer names its model and time; reasoning is folded.
def test_each_answer_names_its_model_and_time_and_folds_its_reasoning(browser, lab):
    pending = {}

    def answer(msg, ws):
        ws.send(json.dumps({"type": "start", "id": msg["id"], "model": "llamacpp:Qwen3-0.6B"}))
        ws.send(json.dumps({"type": "reasoning", "id": msg["id"], "text": "The user wants a sum; "}))
        pending["id"] = msg["id"]

    server = Server(answer=answer)
    page = start(browser, lab, server)
    try:
        ask(page, "add 2 and 3")
        answer_view = page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant").last
        reasoning = answer_view.locator(".jp-TinyAI-reasoning")
        reasoning.locator("summary", has_text="Thinking…").wait_for()
        assert reasoning.get_attribute("open") is None  # folded
        ws, rid = server.sockets[-1], pending["id"]
        ws.send(json.dumps({"type": "reasoning", "id": rid, "text": "2 + 3 is 5."}))
        ws.send(json.dumps({"type": "token", "id": rid, "text": "It is 5."}))
        ws.send(json.dumps({"type": "done", "id": rid, "text": "It is 5.", "model": "Qwen3 0.6B",
                            "time": "2026-11-29T10:42:00+00:00", "reasoning": "The user wants a sum; 2 + 3 is 5.",
                            "stats": {"finish_reason": "stop"}}))
        wait_idle(page)
        meta = answer_view.locator(".jp-TinyAI-message-meta").text_content()
        assert re.fullmatch(r"Qwen3 0\.6B · \d{1,2}:\d{2}( [AP]M)?", meta), meta
        assert answer_view.locator(".jp-TinyAI-markdown").text_content().strip() == "It is 5."
        summary = reasoning.locator("summary")
        assert summary.text_content().startswith("Thinking")
        assert not reasoning.locator(".jp-TinyAI-reasoning-text").is_visible()
        summary.click()
        assert reasoning.locator(".jp-TinyAI-reasoning-text").text_content() == "The user wants a sum; 2 + 3 is 5."
        # the prompt has its time too
        assert re.fullmatch(r"\d{1,2}:\d{2}( [AP]M)?", page.locator(f"{SIDEBAR} .jp-TinyAI-message-user .jp-TinyAI-message-meta").text_content())
    finally:
        page.context.close()
