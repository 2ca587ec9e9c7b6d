"""What a notebook gets from ``%%ask``: the model's Markdown made safe. The client is scripted
(helpers/hostile_media.py): the model is not under test, the text it could write is."""

from __future__ import annotations

import re

from helpers.hostile_media import answer, scripted_client_cell

from jupyter_tinyai.magics.safe_markdown import safe_markdown

LEAK = "http://127.0.0.1:8123"
TEXT = answer(LEAK)
TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _tags_outside_code(markdown: str) -> list:
    outside = re.sub(r"^```.*?(^```[ \t]*$|\Z)", "", markdown, flags=re.S | re.M)
    return TAG_START.findall(re.sub(r"</?(code|sub)>", "", outside))


def test_the_markdown_shown_is_the_safe_rewrite_while_streaming_and_at_the_end(new_kernel):
    kernel = new_kernel(load=False)
    cell = kernel.run(scripted_client_cell(TEXT))
    assert cell.status == "ok", cell.errors
    cell = kernel.run("%%ask\nshow me the chart")
    assert cell.status == "ok", cell.errors
    for update in cell.answer_updates():  # every state of the stream (test_safe_markdown tries each prefix)
        assert _tags_outside_code(update["data"]["text/markdown"]) == [], update
    final = cell.final_answer()
    shown = final["data"]["text/markdown"]
    assert shown.startswith(safe_markdown(TEXT))
    assert f"[chart (image from 127.0.0.1:8123 — click to open)]({LEAK}/md-image?secret=s3cr3t)" in shown
    assert "&lt;img src=\"nope.png\" onerror=" in shown
    assert shown.endswith("</sub>") and "scripted · " in shown  # our footer, still a <sub>
    # text/plain: the answer as the model wrote it, for terminals and nbconvert's text output
    assert final["data"]["text/plain"].startswith(TEXT.rstrip("\n"))
    assert final["metadata"]["jupyter_tinyai"]["model"] == "scripted"

