"""Rendering cost alone: a scripted 500-token answer streamed at 70 tokens/s (no model), long tasks
counted while it renders. Prints figures; asserts only that the whole answer arrived."""

from __future__ import annotations

import json

import pytest
from ui_helpers import new_page, open_lab, wait_until_idle

pytestmark = pytest.mark.timeout(300)

PARAGRAPH = (
    "The cat walked along the **harbour** at dawn, watching the boats and the `gulls`, "
    "and thinking about the long road to the mountains where her sister lived. "
)
CODE = "```python\ndef travel(city, days):\n    return {'city': city, 'days': days}\n```\n\n"
INTERVAL_MS = 14
TOKENS = [w + " " for w in ((PARAGRAPH * 3 + "\n\n") * 4 + CODE + (PARAGRAPH * 3 + "\n\n") * 4).split(" ")][:500]


# A chat socket scripted in the page: tokens at a steady pace (70 tokens/s, what llama.cpp
# does with the bundled model on 2 cores), so the page renders as it would for a real answer.
FAKE_SOCKET = r"""
((tokens, intervalMs) => {
  class FakeChat {
    constructor(url) {
      this.url = url; this.readyState = 0;
      setTimeout(() => { this.readyState = 1; this.onopen && this.onopen({}); }, 5);
    }
    send(data) {
      const m = JSON.parse(data);
      if (m.type !== 'chat') return;
      const emit = o => this.onmessage && this.onmessage({ data: JSON.stringify(o) });
      emit({ type: 'start', id: m.id });
      let i = 0;
      const timer = setInterval(() => {
        if (i < tokens.length) { emit({ type: 'token', id: m.id, text: tokens[i++] }); return; }
        clearInterval(timer);
        emit({ type: 'done', id: m.id, stats: { generated_tokens: tokens.length, finish_reason: 'length' } });
      }, intervalMs);
    }
    close() {}
  }
  const Prev = window.WebSocket;
  class Scripted extends Prev {
    constructor(url, protocols) {
      if (String(url).includes('/tinyai/chat')) { return new FakeChat(url); }
      super(url, protocols);
    }
  }
  window.WebSocket = Scripted;
})(%s, %d);
"""


def test_rendering_a_fast_500_token_answer(browser, lab):
    page = new_page(browser, lab)
    try:
        page.context.add_init_script(FAKE_SOCKET % (json.dumps(TOKENS), INTERVAL_MS))
        open_lab(page, lab)
        page.keyboard.press("Control+Shift+Y")
        sidebar = page.locator("#jupyter-tinyai-sidebar")
        sidebar.wait_for(state="visible")
        sidebar.locator(".jp-TinyAI-new-chat").click()
        wait_until_idle(page)  # JupyterLab has settled: what is measured next is the answer
        page.evaluate("() => { window.__tinyai.longtasks = []; }")
        start = page.evaluate("() => performance.now()")
        box = sidebar.locator(".jp-TinyAI-input")
        box.fill("tell me a story")
        box.press("Enter")
        sidebar.locator(".jp-TinyAI-message-assistant .jp-TinyAI-stats").wait_for(timeout=120_000)
        sidebar.locator(".jp-TinyAI-message-assistant .jp-TinyAI-markdown", has_text="sister lived").last.wait_for()
        end = page.evaluate("() => performance.now()")
        text = sidebar.locator(".jp-TinyAI-message-assistant .jp-TinyAI-markdown").text_content()
        assert "sister lived" in text and "def travel" in text
        tasks = [t for t in page.evaluate("() => window.__tinyai.longtasks") if start <= t["start"] <= end]
        longest = max((t["duration"] for t in tasks), default=0)
        renders = page.evaluate("() => performance.getEntriesByName('jupyter-tinyai:render').map(e => e.duration)")
        assert renders, "no render was measured"
        print(
            f"\nFIGURES scripted 500-token answer at 70 tokens/s rendered in {end - start:.0f} ms; "
            f"long tasks >50 ms: {len(tasks)} (longest {longest:.0f} ms); {len(renders)} Markdown renders, "
            f"slowest {max(renders):.0f} ms, median {sorted(renders)[len(renders) // 2]:.1f} ms"
        )
    finally:
        page.context.close()
