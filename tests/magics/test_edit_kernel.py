"""%fix and %%edit in a real kernel: the proposed cell is shown as a diff and offered as the
next input, never run. The answers come from a scripted OpenAI-compatible server (what the
magics do with an answer is under test, not the model), except in the last test, which uses
the real bundled model."""

from __future__ import annotations

import pytest
from helpers.fake_remote import CountingRemote

from jupyter_tinyai import edits

BROKEN = "def double(values):\n    return [v * 2 for v in valuez]\n\ndoubled = double([1, 2])"
FIXED = "def double(values):\n    return [v * 2 for v in values]\n\ndoubled = double([1, 2])\nproposal_ran = True"


def answer_of(code: str) -> tuple[str, ...]:
    return ("Here is the fix:\n", "```python\n", *[line + "\n" for line in code.split("\n")], "```")


@pytest.fixture(scope="module")
def remote():
    server = CountingRemote("m1")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kernel(tmp_path_factory, remote):
    from .conftest import start_kernel, stop_kernel

    kernel = start_kernel(tmp_path_factory.mktemp("kernel-home"))
    cell = kernel.run(f"%config TinyAI.remotes = {{'lab': {{'url': {remote.url!r}}}}}\n%config TinyAI.model = 'lab:m1'")
    assert cell.status == "ok", cell.errors
    yield kernel
    stop_kernel(kernel)


def next_inputs(cell) -> list[dict]:
    return [p for p in cell.reply["content"].get("payload", []) if p.get("source") == "set_next_input"]


def last_output(cell) -> dict:
    shown = [m["content"] for m in cell.of_type("display_data", "update_display_data")]
    return shown[-1]


def test_fix_shows_the_diff_and_offers_the_fixed_cell_without_running_it(kernel, remote):
    broken = kernel.run(BROKEN)
    assert broken.status == "error"
    count = broken.reply["content"]["execution_count"]
    remote.deltas = answer_of(FIXED)
    cell = kernel.run("%fix")
    assert cell.status == "ok", cell.errors
    [offered] = next_inputs(cell)
    assert offered["text"] == FIXED and offered["replace"] is False
    shown = last_output(cell)
    html = shown["data"]["text/html"]
    assert "+    return [v * 2 for v in values]" in shown["data"]["text/plain"]
    assert "rgba(46, 160, 67" in html and "rgba(248, 81, 73" in html  # added and removed lines coloured
    meta = shown["metadata"]["jupyter_tinyai"]
    assert meta["edit"] == {"request": "fix", "cell": f"In[{count}]", "proposed": True}
    assert meta["model"] == "lab:m1" and meta["generated_tokens"] > 0
    asked = remote.bodies[-1]["messages"][-1]["content"]
    assert "valuez" in asked and "NameError" in asked
    assert kernel.value("'proposal_ran' in globals()") is False  # offered, never run


def test_edit_sends_the_instruction_and_offers_the_cell(kernel, remote):
    first = kernel.run("total = 0\nfor v in range(10):\n    total += v")
    count = first.reply["content"]["execution_count"]
    remote.deltas = answer_of("total = sum(range(10))\nproposal_ran = True")
    cell = kernel.run(f"%%edit {count}\nuse sum")
    assert cell.status == "ok", cell.errors
    [offered] = next_inputs(cell)
    assert offered["text"] == "total = sum(range(10))\nproposal_ran = True"
    assert last_output(cell)["metadata"]["jupyter_tinyai"]["edit"]["request"] == "edit"
    assert "Change this Python code: use sum" in remote.bodies[-1]["messages"][-1]["content"]
    assert kernel.value("'proposal_ran' in globals()") is False


@pytest.mark.parametrize(
    "answer, message",
    [
        (("I", " think", " it", " is", " fine."), edits.NOT_CODE),
        (answer_of(BROKEN), edits.SAME),
    ],
)
def test_no_code_or_the_same_code_is_one_line_and_no_next_input(kernel, remote, answer, message):
    assert kernel.run(BROKEN).status == "error"
    remote.deltas = answer
    cell = kernel.run("%fix")
    assert cell.status == "ok", cell.errors
    assert next_inputs(cell) == []
    shown = last_output(cell)
    assert shown["data"] == {"text/plain": message}
    assert shown["metadata"]["jupyter_tinyai"]["edit"]["proposed"] is False


def test_fix_of_a_cell_without_an_error_says_what_to_do(kernel):
    ok = kernel.run("fine = 1")
    count = ok.reply["content"]["execution_count"]
    cell = kernel.run(f"%fix {count}")
    [error] = cell.errors
    [line] = error["traceback"]  # one line, no traceback
    assert line.endswith(f": cell {count} raised no error: to change it, write %%edit {count} with what to change below.")
    assert next_inputs(cell) == []


@pytest.mark.model
def test_fix_with_the_bundled_model_offers_a_cell_or_says_why_not(new_kernel):
    kernel = new_kernel()
    assert kernel.run("numbers = [1, 2, 3]\nnumbers.push(4)").status == "error"
    cell = kernel.run("%fix")
    assert cell.status == "ok", cell.errors
    shown = last_output(cell)
    meta = shown["metadata"]["jupyter_tinyai"]
    assert meta["model"].startswith("llamacpp:SmolLM2") and meta["edit"]["request"] == "fix"
    offered = next_inputs(cell)
    if meta["edit"]["proposed"]:
        assert len(offered) == 1 and offered[0]["text"] != "numbers = [1, 2, 3]\nnumbers.push(4)"
        assert "text/html" in shown["data"]
    else:
        said = shown["data"]["text/plain"]
        assert offered == [] and "\n" not in said
        assert said in (edits.NOT_CODE, edits.SAME) or said.startswith(edits.CUT_OFF.split("(")[0])
    assert kernel.value("numbers") == [1, 2, 3]  # the proposal was not run


@pytest.mark.parametrize("source", ["%%edit {n}", "%%edit {n}\n"])
def test_edit_with_nothing_below_says_what_to_write(kernel, remote, source):
    count = kernel.run("x = 1").reply["content"]["execution_count"]
    asked = len(remote.bodies)
    cell = kernel.run(source.format(n=count))
    [error] = cell.errors
    [line] = error["traceback"]  # our one line, not IPython's "did you mean the line magic %edit"
    assert line.endswith(": write what to change in the cell below %%edit N, e.g. 'vectorize this loop'.")
    assert next_inputs(cell) == [] and len(remote.bodies) == asked


def test_fix_after_only_usage_errors_says_there_is_no_error(new_kernel, remote):
    kernel = new_kernel()
    setup = kernel.run(f"%config TinyAI.remotes = {{'lab': {{'url': {remote.url!r}}}}}\n%config TinyAI.model = 'lab:m1'")
    assert setup.status == "ok", setup.errors
    count = kernel.run("x = 1").reply["content"]["execution_count"]
    for usage in (f"%%edit {count}", "%fix abc", "%%fix", "%fix --bogus"):
        assert kernel.run(usage).status == "error"  # the magics' own usage errors, not the code's
    asked = len(remote.bodies)
    cell = kernel.run("%fix")
    [error] = cell.errors
    [line] = error["traceback"]
    assert "there is no error to fix" in line
    assert next_inputs(cell) == [] and len(remote.bodies) == asked
