"""A model that thinks before answering, in a real kernel: the magics show the reasoning
folded ("Thinking…") above the answer, keep it out of the conversation and out of the code
offered as the next cell. The backend is scripted (tests/helpers/thinking_backend.py), the
engine and the magics are real."""

from __future__ import annotations

import pathlib

import pytest

TESTS = str(pathlib.Path(__file__).resolve().parents[1])
SETUP = f"""import sys
sys.path.insert(0, {TESTS!r})
from helpers.thinking_backend import install
engine = install()
get_ipython().run_line_magic("load_ext", "jupyter_tinyai")
"""


@pytest.fixture
def thinking_kernel(new_kernel):
    kernel = new_kernel(load=False)
    cell = kernel.run(SETUP)
    assert cell.status == "ok", cell.errors
    return kernel


def test_reasoning_is_folded_above_the_answer(thinking_kernel):
    cell = thinking_kernel.run("%%ask\nWhat is 2 + 2?")
    assert cell.status == "ok", cell.errors
    final = cell.final_answer()["data"]
    markdown = final["text/markdown"]
    folded = '<details class="tinyai-reasoning"><summary>Thinking…</summary>'
    assert markdown.startswith(folded)
    details, answer = markdown.split("</details>", 1)
    assert "shutil.rmtree" in details and "The answer is 4." in answer and "shutil" not in answer
    assert "shutil" not in final["text/plain"] and "The answer is 4." in final["text/plain"]
    history = thinking_kernel.value("[m.content for m in engine.history(get_ipython().magics_manager"
                                    ".registry['TinyAIMagics'].session.conversation)]")
    assert history[-1].startswith("The answer is 4.") and not any("shutil" in m for m in history)


def test_the_code_offered_is_the_answers_never_the_reasoning(thinking_kernel):
    cell = thinking_kernel.run("%%ask -f code --new\nPrint 2 + 2.")
    assert cell.status == "ok", cell.errors
    (payload,) = [p for p in cell.reply["content"]["payload"] if p["source"] == "set_next_input"]
    assert payload["text"] == "print(2 + 2)"


def test_text_format_folds_it_too(thinking_kernel):
    cell = thinking_kernel.run("%%ask -f text --new\nWhat is 2 + 2?")
    assert cell.status == "ok", cell.errors
    shown = [m["content"]["data"] for m in cell.of_type("display_data", "update_display_data")
             if "text/html" in m["content"]["data"] and "<pre>" in m["content"]["data"]["text/html"]]
    html = shown[-1]["text/html"]
    assert html.startswith('<details class="tinyai-reasoning"><summary>Thinking…</summary><pre>')
    assert "shutil" not in html.split("</details>", 1)[1]
