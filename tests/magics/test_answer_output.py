"""What a notebook gets from ``%%ask``: the model's Markdown made safe, and the answer as the
cell's only output. The client is scripted (helpers/hostile_media.py): the model is not
under test, the text it could write is."""

from __future__ import annotations

import re

import nbformat
from helpers.hostile_media import answer, scripted_client_cell
from nbclient import NotebookClient

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


def test_a_saved_notebook_holds_the_answer_alone(tmp_path):
    """Run headless like the quick start: the Stop button (and a progress bar) leave no empty
    output behind; a cell that printed something keeps it; an error replaces the answer."""
    sources = [
        scripted_client_cell("Paris is the capital of **France**."),
        "%%ask\nWhat is the capital of France?",
        "%ask And of Italy?",
        "%%explain\nx = 1",
        "%%ask\nwarn me",
        "%%ask\nfail please",
        "print('before')\n%ask and print",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [cell.outputs for cell in nb.cells]
    for index in (1, 2, 3):
        (only,) = outputs[index]
        assert only["output_type"] == "display_data" and only["metadata"]["jupyter_tinyai"]["model"] == "scripted"
        assert only["data"]["text/plain"].startswith("Paris is the capital of **France**.")
    warned = outputs[4]
    assert [o["output_type"] for o in warned if o["output_type"] == "stream"] == ["stream"]
    assert "a warning while answering" in "".join(o.get("text", "") for o in warned)
    assert any("text/markdown" in o.get("data", {}) for o in warned)
    (failed,) = outputs[5]
    assert failed["output_type"] == "error" and "scripted backend failed" in failed["evalue"]
    mixed = outputs[6]
    assert mixed[0]["output_type"] == "stream" and mixed[0]["text"] == "before\n"
    assert any("text/markdown" in o.get("data", {}) for o in mixed)
    for cell_outputs in outputs[:4] + outputs[5:]:  # the cell that printed keeps every output
        assert not [o for o in cell_outputs if o.get("data") == {"text/plain": ""}], cell_outputs
