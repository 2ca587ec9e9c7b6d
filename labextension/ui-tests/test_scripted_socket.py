"""Sidebar behaviour that needs a particular server reply: a chat WebSocket scripted with
Playwright's route_web_socket (the model is not under test here; test_lab.py uses it)."""

from __future__ import annotations

import json
import re

import pytest
from ui_helpers import new_page, open_lab

pytestmark = pytest.mark.timeout(300)
SIDEBAR = "#jupyter-tinyai-sidebar"
CODE = "total = sum(values)"


def _page(browser, lab, handler, path=""):
    page = new_page(browser, lab)
    page.route_web_socket(re.compile(r".*/tinyai/chat.*"), handler)
    open_lab(page, lab, path)
    page.keyboard.press("Control+Shift+Y")
    page.locator(SIDEBAR).wait_for(state="visible")
    page.locator(f"{SIDEBAR} .jp-TinyAI-new-chat").click()
    return page


def _ask(page, prompt):
    box = page.locator(f"{SIDEBAR} .jp-TinyAI-input")
    box.fill(prompt)
    box.press("Enter")


def test_replace_selection_puts_the_code_in_place_of_the_selected_text(browser, lab):
    lab.api("PUT", "/api/contents/replace.ipynb", {"type": "notebook", "format": "json", "content": {
        "cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1\nOLD\ny = 2", "outputs": [], "execution_count": None}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}})

    def server(ws):
        def on_message(raw):
            msg = json.loads(raw)
            if msg.get("type") == "chat":
                text = f"Use this:\n\n```python\n{CODE}\n```\n"
                ws.send(json.dumps({"type": "start", "id": msg["id"]}))
                ws.send(json.dumps({"type": "token", "id": msg["id"], "text": text}))
                ws.send(json.dumps({"type": "done", "id": msg["id"], "text": text, "stats": {"finish_reason": "stop"}}))
        ws.on_message(on_message)

    page = _page(browser, lab, server, "replace.ipynb")
    try:
        editor = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content").first
        editor.wait_for()
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-line", has_text="OLD").dblclick()  # selects the word
        _ask(page, "fix it")
        answer = page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant")
        answer.locator(".jp-TinyAI-replace").wait_for()
        answer.locator(".jp-TinyAI-replace").click()
        page.wait_for_function("() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content').textContent.includes('total')")
        lines = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-line").all_text_contents()
        assert lines == ["x = 1", CODE, "y = 2"]
    finally:
        page.context.close()


def test_a_lost_connection_mid_answer_is_said_clearly(browser, lab):
    def server(ws):
        def on_message(raw):
            msg = json.loads(raw)
            if msg.get("type") == "chat":
                ws.send(json.dumps({"type": "start", "id": msg["id"]}))
                ws.send(json.dumps({"type": "token", "id": msg["id"], "text": "Half an ans"}))
            elif msg.get("type") == "stop":  # the server dies instead of stopping
                ws.close(code=1011, reason="server went away")
        ws.on_message(on_message)

    page = _page(browser, lab, server)
    try:
        _ask(page, "hello")
        page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant", has_text="Half an ans").wait_for()
        page.locator(f"{SIDEBAR} .jp-TinyAI-stop").click()
        banner = page.locator(f"{SIDEBAR} .jp-TinyAI-banner-error")
        banner.wait_for()
        assert "Lost the connection to the Jupyter server" in banner.text_content()
        assert page.locator(f"{SIDEBAR} .jp-TinyAI-send").is_visible()  # not stuck on Stop
        assert "Half an ans" in page.locator(f"{SIDEBAR} .jp-TinyAI-message-assistant").text_content()
    finally:
        page.context.close()


def test_a_host_crash_while_queued_shows_the_host_title_with_details_and_dismiss(browser, lab):
    def server(ws):
        def on_message(raw):
            msg = json.loads(raw)
            if msg.get("type") == "chat":
                ws.send(json.dumps({"type": "queued", "id": msg["id"], "position": 2}))
                # what the server sends when the host dies: HostError(crash_message).to_dict()
                ws.send(json.dumps({"type": "error", "id": msg["id"], "kind": "host",
                                    "message": "the model host crashed with SIGILL (illegal instruction)."}))
        ws.on_message(on_message)

    page = _page(browser, lab, server)
    try:
        _ask(page, "hello")
        banner = page.locator(f"{SIDEBAR} .jp-TinyAI-banner-error")
        banner.wait_for()
        assert banner.locator(".jp-TinyAI-banner-text").text_content() == "The model host failed."
        details = banner.locator(".jp-TinyAI-banner-details")
        assert not details.locator(".jp-TinyAI-banner-details-text").is_visible()  # one short line first
        details.locator("summary").click()
        assert details.locator(".jp-TinyAI-banner-details-text").text_content() == (
            "the model host crashed with SIGILL (illegal instruction).")
        banner.locator(".jp-TinyAI-banner-dismiss").click()
        banner.wait_for(state="hidden")
        assert page.locator(f"{SIDEBAR}").get_attribute("data-phase") == "idle"
    finally:
        page.context.close()


def test_explain_selection_sends_only_the_selected_text(browser, lab):
    lab.api("PUT", "/api/contents/select.ipynb", {"type": "notebook", "format": "json", "content": {
        "cells": [{"cell_type": "code", "metadata": {}, "source": "a = 1\nresult = compute_totals(a)\nb = 2",
                   "outputs": [], "execution_count": None}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}})
    received = []

    def server(ws):
        def on_message(raw):
            msg = json.loads(raw)
            received.append(msg)
            if msg.get("type") == "chat":
                ws.send(json.dumps({"type": "start", "id": msg["id"]}))
                ws.send(json.dumps({"type": "token", "id": msg["id"], "text": "It computes totals."}))
                ws.send(json.dumps({"type": "done", "id": msg["id"], "stats": {"generated_tokens": 4}}))
        ws.on_message(on_message)

    page = _page(browser, lab, server, "select.ipynb")
    try:
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-line", has_text="compute_totals").click()
        page.keyboard.press("Home")
        page.keyboard.press("Shift+End")  # selects the middle line only
        page.keyboard.press("Control+Alt+e")
        inline = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .jp-TinyAI-inline")
        inline.wait_for()
        assert "selection" in inline.locator(".jp-TinyAI-inline-title").text_content()
        inline.locator(".jp-TinyAI-markdown", has_text="It computes totals.").wait_for()
        chats = [m for m in received if m.get("type") == "chat"]
        assert len(chats) == 1
        assert chats[0]["notebook"] == "select.ipynb"
        assert [c["label"] for c in chats[0]["context"]] == ["Selection (cell 1)"]
        assert chats[0]["context"][0]["text"] == "result = compute_totals(a)"
    finally:
        page.context.close()
