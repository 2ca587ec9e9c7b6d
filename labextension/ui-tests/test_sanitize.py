"""Model output is untrusted: Markdown from the model is rendered sanitized.

The answer here comes from a scripted chat WebSocket (Playwright's route_web_socket),
because the point is what the browser does with hostile text, not what the model says.
"""

from __future__ import annotations

import json
import re

import pytest
from ui_helpers import new_page, open_lab, wait_until_idle

pytestmark = pytest.mark.timeout(300)

HOSTILE = (
    "Here you go: <img src=\"nope.png\" onerror=\"window.__pwned = 'img'\"> "
    "[click me](javascript:window.__pwned='md-link') "
    "<a href=\"javascript:window.__pwned='html-link'\" id=\"evil\">and me</a> "
    "<script>window.__pwned = 'script'</script>"
    "<svg><script>window.__pwned='svg'</script></svg>\n\n"
    "```python\nprint('safe code')\n```\n"
)


def scripted_server(ws):
    def on_message(raw):
        msg = json.loads(raw)
        if msg.get("type") != "chat":
            return
        rid = msg["id"]
        ws.send(json.dumps({"type": "start", "id": rid}))
        for i in range(0, len(HOSTILE), 17):  # streamed in pieces, tags split across tokens
            ws.send(json.dumps({"type": "token", "id": rid, "text": HOSTILE[i : i + 17]}))
        ws.send(json.dumps({"type": "done", "id": rid, "text": HOSTILE, "stats": {"generated_tokens": 30, "finish_reason": "stop"}}))

    ws.on_message(on_message)


def test_hostile_markdown_from_the_model_is_inert(browser, lab):
    page = new_page(browser, lab)
    try:
        page.route_web_socket(re.compile(r".*/tinyai/chat.*"), scripted_server)
        open_lab(page, lab)
        page.keyboard.press("Control+Shift+Y")
        sidebar = page.locator("#jupyter-tinyai-sidebar")
        sidebar.wait_for(state="visible")
        sidebar.locator(".jp-TinyAI-new-chat").click()
        assert sidebar.locator(".jp-TinyAI-message").count() == 0
        box = sidebar.locator(".jp-TinyAI-input")
        box.fill("say something hostile")
        box.press("Enter")
        answer = sidebar.locator(".jp-TinyAI-message-assistant")
        answer.locator(".jp-TinyAI-stats").wait_for()
        assert answer.count() == 1
        markdown = answer.locator(".jp-TinyAI-markdown")
        markdown.filter(has_text="Here you go").wait_for()  # rendering is asynchronous
        assert answer.locator("[onerror]").count() == 0
        assert answer.locator("script").count() == 0
        hrefs = answer.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href') || '')")
        assert not [h for h in hrefs if h.strip().lower().startswith("javascript")], hrefs
        for link in answer.locator("a").all():
            link.click(modifiers=[], no_wait_after=True, timeout=5_000)
        # an onerror handler would have run once its image failed; a link's navigation once
        # the tasks its click queued have
        answer.locator("img").evaluate_all(  # listeners added, not set: an onerror attribute stays
            """imgs => Promise.all(imgs.map(i => i.complete || new Promise(done => {
                 i.addEventListener('load', done); i.addEventListener('error', done); })))"""
        )
        wait_until_idle(page)
        assert page.evaluate("() => window.__pwned") is None
        # the code block still gets its buttons
        assert answer.locator(".jp-TinyAI-code .jp-TinyAI-insert").count() == 1
    finally:
        page.context.close()
