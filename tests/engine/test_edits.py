"""Proposed edits: the code in an answer, the one-line messages instead of an empty diff, the
selection rewrite, and Engine.edit end to end against a scripted OpenAI-compatible server
(the model is not under test here: what we do with its answer is)."""

from __future__ import annotations

import pytest
from helpers.fake_remote import CountingRemote

from jupyter_tinyai import edits
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.edits import EditRequest, code_block, result
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import EmptyPrompt, InvalidRequest
from jupyter_tinyai.types import Stats

CELL = '''def total(prices):
    result = 0
    for p in prices:
        result = result + p
    return result


print(total([1, 2, 3]))
'''
LOOP = "    result = 0\n    for p in prices:\n        result = result + p\n"
NEW_LOOP = "result = sum(prices)\n"


@pytest.mark.parametrize(
    "answer, block, closed",
    [
        ("Here:\n```python\nx = 1\n```\nThat sets x.", "x = 1", True),
        ("```\nx = 1\ny = 2\n```", "x = 1\ny = 2", True),
        ("```py\nx = 1\n```", "x = 1", True),
        ("~~~python\nx = 1\n~~~", "x = 1", True),
        ("The output:\n```text\n3\n```\nThe fix:\n```python\nx = 2\n```", "x = 2", True),
        ("````python\nprint('```')\n````", "print('```')", True),
        ("```python\nx = 1\nfor i in", "x = 1\nfor i in", False),
        ("No code, just words.", None, False),
        ("```bash\npip install numpy\n```", None, False),
    ],
)
def test_the_first_python_code_block_of_an_answer(answer, block, closed):
    assert code_block(answer) == (block, closed)


def test_an_answer_in_prose_is_one_line_saying_so():
    request = EditRequest(CELL, instruction="use sum")
    for answer in ("Sure! Use the built-in sum function instead of the loop.", "Done", "```python\n\n```"):
        outcome = result(request, answer)
        assert (outcome.code, outcome.diff, outcome.message) == (None, "", edits.NOT_CODE)
        assert "\n" not in outcome.message and not outcome.ok


def test_the_same_code_back_is_one_line_saying_so():
    request = EditRequest(CELL, instruction="use sum")
    # trailing spaces and a missing final newline are not a change
    same = "```python\n" + CELL.replace("return result", "return result   ").rstrip("\n") + "\n```"
    outcome = result(request, same)
    assert (outcome.code, outcome.diff, outcome.message) == (None, "", edits.SAME)


def test_an_answer_cut_off_inside_its_code_is_not_applied():
    request = EditRequest(CELL, instruction="use sum")
    outcome = result(request, "```python\ndef total(prices):\n    return sum(", Stats(generated_tokens=40, finish_reason="length"))
    assert outcome.code is None and outcome.message == edits.CUT_OFF.format(tokens=40)
    outcome = result(request, "```python\ndef total(prices):\n", Stats(finish_reason="cancelled"))
    assert outcome.code is None and outcome.message == edits.STOPPED
    # a model that forgot the closing fence but finished is taken at its word
    outcome = result(request, "```python\ndef total(prices):\n    return sum(prices)\n", Stats(finish_reason="stop"))
    assert outcome.code == "def total(prices):\n    return sum(prices)\n"


def test_bare_code_without_a_fence_is_taken_as_the_cell():
    outcome = result(EditRequest("x = 1\n", instruction="rename x to y"), "y = 1")
    assert outcome.code == "y = 1\n"
    assert outcome.diff.splitlines()[-2:] == ["-x = 1", "+y = 1"]


def test_the_whole_cell_rewrite_keeps_how_the_cell_ends():
    request = EditRequest("a = 1\nb = 2", instruction="swap")
    assert result(request, "```python\nb = 2\na = 1\n```").code == "b = 2\na = 1"
    request = EditRequest("a = 1\nb = 2\n", instruction="swap")
    assert result(request, "```python\nb = 2\na = 1\n\n\n```").code == "b = 2\na = 1\n"


def test_a_selection_rewrite_changes_only_the_selection():
    start = CELL.index(LOOP)
    request = EditRequest(CELL, instruction="use sum", selection=(start, start + len(LOOP))).check()
    # the model sees the selection without its indentation, and the cell for reference
    assert request.part() == "result = 0\nfor p in prices:\n    result = result + p"
    prompt = request.prompt()
    assert CELL.strip() in prompt and "```python\nresult = 0\nfor p in prices:" in prompt
    outcome = result(request, f"Here it is:\n```python\n{NEW_LOOP}```")
    assert outcome.code == CELL.replace(LOOP, "    " + NEW_LOOP)
    changed = [line for line in outcome.diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["-    result = 0", "-    for p in prices:", "-        result = result + p", "+    result = sum(prices)"]


def test_a_selection_inside_a_line_is_replaced_in_place():
    code = "values = [x * 2 for x in range(10)]\nprint(values)\n"
    start = code.index("x * 2")
    request = EditRequest(code, instruction="square", selection=(start, start + len("x * 2"))).check()
    assert result(request, "```python\nx ** 2\n```").code == code.replace("x * 2", "x ** 2")


def test_a_fix_prompt_has_the_cell_and_the_traceback_without_colours():
    traceback = "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"
    request = EditRequest("1 / 0", error=traceback).check()
    assert request.kind == "fix"
    prompt = request.prompt()
    assert "```python\n1 / 0\n```" in prompt and "ZeroDivisionError: division by zero" in prompt
    assert "\x1b" not in prompt and prompt.startswith("Fix this Python code")


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(code="  \n", instruction="x"), EmptyPrompt, "cell is empty"),
        (dict(code="x = 1"), EmptyPrompt, "say what to change"),
        (dict(code="x = 1", instruction="  ", error=""), EmptyPrompt, "say what to change"),
        (dict(code="x = 1", instruction="y", selection=(3, 99)), InvalidRequest, "'selection' must be"),
        (dict(code="x = 1", instruction="y", selection=(4, 2)), InvalidRequest, "'selection' must be"),
        (dict(code="x = 1\n\n", instruction="y", selection=(5, 7)), EmptyPrompt, "selection is blank"),
    ],
)
def test_bad_edit_requests_say_what_to_do(kwargs, error, words):
    with pytest.raises(error, match=words):
        EditRequest(**kwargs).check()


def test_an_edit_request_from_the_wire():
    request = EditRequest.from_dict({"code": "x = 1", "instruction": "rename", "selection": [0, 1]})
    assert request.selection == (0, 1)
    assert EditRequest.from_dict(request.to_dict()) == request
    with pytest.raises(InvalidRequest, match="'code' must be a string"):
        EditRequest.from_dict({"code": 3, "instruction": "x"})
    with pytest.raises(InvalidRequest, match="'selection' must be two character offsets"):
        EditRequest.from_dict({"code": "x = 1", "instruction": "x", "selection": "0-1"})


# -- Engine.edit against a scripted OpenAI-compatible server ---------------------------------


def scripted_engine(*deltas):
    server = CountingRemote("m1", answer=deltas)
    engine = Engine(load_settings(host="inprocess", remotes={"lab": {"url": server.url}}, model="lab:m1"))
    return server, engine


def test_engine_edit_streams_the_answer_then_the_diff():
    server, engine = scripted_engine("Here:\n", "```python\n", "def total(prices):\n", "    return sum(prices)\n", "```")
    try:
        stream = engine.edit(CELL, instruction="use sum")
        texts = [chunk.text for chunk in stream if chunk.text]
        assert len(texts) == 5
        outcome = stream.result
        assert outcome.ok and outcome.code == "def total(prices):\n    return sum(prices)\n"
        assert outcome.diff.startswith("--- cell (now)\n+++ cell (proposed)\n")
        assert "+    return sum(prices)" in outcome.diff and "-print(total([1, 2, 3]))" in outcome.diff
        body = server.bodies[-1]
        assert body["messages"][0] == {"role": "system", "content": edits.SYSTEM}
        assert "use sum" in body["messages"][-1]["content"] and CELL.strip() in body["messages"][-1]["content"]
        # the edit's turn is its conversation's only turn, for a follow-up question
        assert [m.role for m in engine.history("edit")] == ["user", "assistant"]
    finally:
        server.stop()


def test_engine_edit_stops_at_the_end_of_the_code():
    server, engine = scripted_engine("```python\n", "x = 2\n", "```\n", "This", " changes", " x.")
    try:
        outcome = engine.edit("x = 1", instruction="make it 2").result
        assert outcome.answer == "```python\nx = 2\n```\n"
        assert outcome.code == "x = 2" and outcome.stats.finish_reason == "stop"
    finally:
        server.stop()


def test_engine_edit_of_a_selection_sends_and_replaces_only_the_selection():
    server, engine = scripted_engine("```python\n", NEW_LOOP, "```")
    try:
        start = CELL.index(LOOP)
        outcome = engine.edit(CELL, instruction="use sum", selection=(start, start + len(LOOP))).result
        assert outcome.code == CELL.replace(LOOP, "    " + NEW_LOOP)
        assert "Change this part of it: use sum" in server.bodies[-1]["messages"][-1]["content"]
    finally:
        server.stop()


def test_engine_edit_answered_in_prose_gives_the_one_line_message():
    server, engine = scripted_engine("I", " cannot", " see", " any", " problem.")
    try:
        outcome = engine.edit(CELL, error="NameError: name 'x' is not defined").result
        assert (outcome.code, outcome.diff, outcome.message) == (None, "", edits.NOT_CODE)
    finally:
        server.stop()


def test_engine_edit_refuses_bad_input_before_any_work():
    server, engine = scripted_engine("```python\nx\n```")
    try:
        with pytest.raises(EmptyPrompt):
            engine.edit("", instruction="x")
        with pytest.raises(InvalidRequest, match="'max_tokens' must be"):
            engine.edit("x = 1", instruction="y", max_tokens=0)
        assert server.chats() == 0
    finally:
        server.stop()
