"""The completion lane's parts that need no model: budgeting, stop rules, the cache of recent
completions, the ring of extra chunks, and a notebook as prefix and suffix."""

import pytest

from jupyter_tinyai.completion.budget import Limits, keep_end, keep_newest, keep_start
from jupyter_tinyai.completion.memo import Recent, Ring
from jupyter_tinyai.completion.notebook import Cell, notebook_context
from jupyter_tinyai.completion.stops import Stopper
from jupyter_tinyai.types import ContextPiece


def count(text):  # a stand-in tokenizer: one token per word or symbol run
    return len(text.split()) + text.count("\n")


# -- budget -------------------------------------------------------------------------------


def test_prefix_keeps_its_end_and_its_cut_stays_put_while_typing():
    lines = [f"x{i} = {i}\n" for i in range(200)]
    text = "".join(lines)
    kept = keep_end(text, 300, count)
    assert count(kept) <= 300 and text.endswith(kept) and kept.startswith("x")
    first = kept.splitlines()[0]
    # typing at the end: the kept text starts at the same line for a while
    starts = {keep_end(text + "y" * n + " = 1", 300, count).splitlines()[0] for n in range(1, 30)}
    assert starts == {first}
    # the cut moves in steps of 16 lines
    assert int(first[1:].split()[0]) % 16 == 0


def test_suffix_keeps_its_start_and_extra_its_newest():
    text = "".join(f"y{i} = {i}\n" for i in range(500))
    kept = keep_start(text, 100, count)
    assert text.startswith(kept) and count(kept) <= 100 and kept.endswith("\n")
    pieces = [ContextPiece(f"cell {i}", f"a{i} = {i}\n" * 10) for i in range(10)]
    newest = keep_newest(pieces, 100, count)
    assert [p.label for p in newest] == ["cell 7", "cell 8", "cell 9"]


def test_a_single_line_longer_than_the_budget_is_cut_inside():
    line = "x = [" + ", ".join(str(i) for i in range(5000)) + "]"
    assert 0 < count(keep_end(line, 50, count)) <= 50 and line.endswith(keep_end(line, 50, count))
    assert 0 < count(keep_start(line, 50, count)) <= 50 and line.startswith(keep_start(line, 50, count))


def test_limits_leave_room_for_the_answer():
    limits = Limits.of(n_ctx=2048, max_tokens=64)
    assert limits.prompt + 64 < 2048 and limits.suffix == limits.extra == limits.prompt // 4


# -- stop rules ---------------------------------------------------------------------------


def stream(prefix, suffix, generated, max_lines=4, stop_texts=()):
    stopper = Stopper(prefix, suffix, max_lines=max_lines, stop_texts=stop_texts)
    shown = []
    for ch in generated:  # character by character: the hardest case for holding text back
        shown.append(stopper.feed(ch))
        if stopper.done:
            break
    shown.append(stopper.finish())
    return "".join(shown), stopper.reason


@pytest.mark.parametrize(
    "prefix, suffix, generated, expected, reason",
    [
        ("def f(x):\n    return", "", " x + 1\n\ndef g():\n    pass", " x + 1", "blank line"),
        ("    if x:\n        y = 1\n    ", "", "z = 2\nprint(z)", "z = 2", "indent drop"),
        ("x = 1\n", "", "y = 2\nz = 3\nw = 4\n", "y = 2\nz = 3", "max lines"),
        ("for i in range(3):\n", "\nprint('done')\n", "    print(i)\nprint('done')\n", "    print(i)",
         "repeats the code after the cursor"),
        ("print(", ")\n", "x, y)\nmore", "x, y", "end of line"),
        ("df.", "", "head()\n```\nThis code shows", "head()", "stop text"),
    ],
)
def test_stop_rules(prefix, suffix, generated, expected, reason):
    stop_texts = ("```",) if reason == "stop text" else ()
    assert stream(prefix, suffix, generated, max_lines=2, stop_texts=stop_texts) == (expected, reason)


def test_nothing_shown_is_taken_back():
    stopper = Stopper("def f(x):\n", "\nprint(f(1))\n", max_lines=3, stop_texts=("```",))
    generated = "    y = x  \n    return y\n\n``"
    shown = ""
    for ch in generated:
        shown += stopper.feed(ch)
        assert generated.startswith(shown)
        assert not shown.endswith((" ", "\n", "`")), "trailing space, a pending newline or a fence start waits"
    assert (shown + stopper.finish()) == "    y = x  \n    return y"


# -- recent completions and the ring ----------------------------------------------------


def test_recent_completions_serve_the_user_typing_into_them():
    recent = Recent(size=2)
    recent.put("m", "df.he", "", "ad()")
    assert recent.get("m", "df.he", "") == "ad()"
    assert recent.get("m", "df.hea", "") == "d()"
    assert recent.get("m", "df.head(", "") == ")"
    assert recent.get("m", "df.head()", "") is None  # typed it all
    assert recent.get("m", "df.hex", "") is None  # typed something else
    assert recent.get("other", "df.he", "") is None and recent.get("m", "df.he", "x") is None
    recent.put("m", "a", "", "1")
    recent.put("m", "b", "", "2")
    assert recent.get("m", "df.he", "") is None  # the oldest went


def test_ring_takes_new_chunks_only_when_updated_and_replaces_a_cells_old_chunk():
    ring = Ring(size=2)
    ring.offer([ContextPiece("cell 1", "a = 1")])
    assert ring.chunks == [] and len(ring.pending) == 1
    assert ring.update() and [p.text for p in ring.chunks] == ["a = 1"]
    ring.offer([ContextPiece("cell 1", "a = 1")])  # already there
    assert not ring.update()
    ring.offer([ContextPiece("cell 1", "a = 2"), ContextPiece("cell 2", "b = 1"), ContextPiece("cell 3", "c = 1")])
    ring.update()
    assert [p.text for p in ring.chunks] == ["b = 1", "c = 1"]


# -- a notebook as context ----------------------------------------------------------------


def test_notebook_context():
    cells = [
        Cell("markdown", "# Sales\nLoad the data."),
        Cell("code", "import pandas as pd\ndf = pd.read_csv('sales.csv')"),
        Cell("raw", "not code"),
        Cell("code", "df.describe()"),
        Cell("code", "print(df.shape)"),
    ]
    prefix, suffix, extra = notebook_context(cells, 3, before="df.desc", after="ribe()", recent=[1, 3, 4])
    assert prefix == (
        "# %% [markdown]\n# # Sales\n# Load the data.\n\n"
        "# %%\nimport pandas as pd\ndf = pd.read_csv('sales.csv')\n\n"
        "# %%\ndf.desc"
    )
    assert suffix == "ribe()\n\n# %%\nprint(df.shape)\n"
    assert [p.label for p in extra] == ["cell 2", "cell 5"]  # not the cursor's own cell
    r_prefix, _, _ = notebook_context([Cell("markdown", "Note"), Cell("code", "")], 1, "x <- ", "", language="R")
    assert r_prefix == "# %% [markdown]\n# Note\n\n# %%\nx <- "
    with pytest.raises(IndexError):
        notebook_context(cells, 9, "", "")


# -- requests over HTTP -------------------------------------------------------------------


def test_wire_requests_become_complete_arguments():
    from jupyter_tinyai.completion.wire import complete_kwargs, notebook_kwargs
    from jupyter_tinyai.errors import InvalidRequest

    kwargs = complete_kwargs({"prefix": "df.", "extra": [{"label": "cell 1", "text": "import pandas"}], "max_lines": 2})
    assert kwargs == {"prefix": "df.", "suffix": "", "extra": [ContextPiece("cell 1", "import pandas")], "max_lines": 2}
    kwargs = notebook_kwargs({"cells": [{"cell_type": "code", "source": "import os"},
                                        {"cell_type": "code", "source": ["os.pa", "th"]}],
                              "index": 1, "before": "os.pa", "after": "", "recent": [0], "session": "nb"})
    assert kwargs["prefix"] == "# %%\nimport os\n\n# %%\nos.pa" and kwargs["session"] == "nb"
    assert [p.text for p in kwargs["extra"]] == ["import os"]
    for bad, field in [
        ({"prefix": 3}, "'prefix'"),
        ({"prefix": "x", "extra": ["text"]}, "'extra'"),
        ({"prefix": "x", "max_lines": "2"}, "'max_lines'"),
        ({"prefix": "x", "time_budget": True}, "'time_budget'"),
        ([], "JSON object"),
    ]:
        with pytest.raises(InvalidRequest, match=field):
            complete_kwargs(bad)
    for bad, field in [
        ({"cells": [], "index": 0, "before": ""}, "'cells'"),
        ({"cells": [{"source": "x"}], "index": 1, "before": ""}, "'index'"),
        ({"cells": [{"source": "x"}], "index": 0, "before": None}, "'before'"),
        ({"cells": [{"source": "x"}], "index": 0, "before": "", "recent": ["a"]}, "'recent'"),
    ]:
        with pytest.raises(InvalidRequest, match=field):
            notebook_kwargs(bad)
