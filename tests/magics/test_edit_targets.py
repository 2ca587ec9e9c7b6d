"""What %fix and %%edit rewrite, from the kernel's history, and the diff they show (no kernel
or model needed: the history is IPython's In list and the errors the magics recorded)."""

import pytest

from jupyter_tinyai.context import ContextError, ErrorRecord, History
from jupyter_tinyai.edits import unified_diff
from jupyter_tinyai.magics.edit import diff_ansi, diff_html, edit_request, fix_request

INPUTS = ["", "import math", "x = 1 / 0", "%fix", "y = [1, 2]\ny.push(3)", "%%edit 4\nuse append"]
ERRORS = {
    2: ErrorRecord(2, "x = 1 / 0", "ZeroDivisionError: division by zero", "ZeroDivisionError: division by zero"),
    4: ErrorRecord(4, "y = [1, 2]\ny.push(3)", "AttributeError: 'list' object has no attribute 'push'", "AttributeError"),
}
HISTORY = History(INPUTS, {}, ERRORS)


def test_fix_takes_the_last_error_or_the_cell_named():
    request, label = fix_request("", HISTORY)
    assert (request.code, request.error, label) == ("y = [1, 2]\ny.push(3)", ERRORS[4].traceback, "In[4]")
    request, label = fix_request("In[2]", HISTORY)
    assert (request.code, label) == ("x = 1 / 0", "In[2]") and request.kind == "fix"


@pytest.mark.parametrize(
    "target, history, words",
    [
        ("1", HISTORY, r"cell 1 raised no error: to change it, write %%edit 1"),
        ("abc", HISTORY, r"%fix takes a cell number"),
        ("", History(INPUTS, {}, {}), "no cell has raised an error"),
    ],
)
def test_fix_without_an_error_to_fix_says_what_to_do(target, history, words):
    with pytest.raises(ContextError, match=words):
        fix_request(target, history)


def test_edit_takes_the_cell_named_or_the_previous_one():
    request, label = edit_request("1", "import sqrt only", HISTORY)
    assert (request.code, request.instruction, label) == ("import math", "import sqrt only", "In[1]")
    request, label = edit_request("", "use append", HISTORY)
    assert (request.code, label) == ("y = [1, 2]\ny.push(3)", "In[4]")
    with pytest.raises(ContextError, match="write what to change"):
        edit_request("1", "  ", HISTORY)
    with pytest.raises(ContextError, match=r"In\[9\] does not exist"):
        edit_request("9", "x", HISTORY)


def test_the_diff_is_coloured_and_escaped():
    diff = unified_diff("a = '<b>'\nb = 2\n", "a = '<i>'\nb = 2\n", "In[3]")
    markup = diff_html(diff)
    assert "&lt;i&gt;" in markup and "<i>" not in markup
    assert markup.count("rgba(46, 160, 67") == 1 and markup.count("rgba(248, 81, 73") == 1
    assert diff_ansi(diff).splitlines()[3:5] == ["\x1b[31m-a = '<b>'\x1b[0m", "\x1b[32m+a = '<i>'\x1b[0m"]
