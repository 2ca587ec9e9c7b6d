"""Notebook context (context.py): no kernel, no model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jupyter_tinyai.context import (
    ContextError,
    ErrorRecord,
    History,
    describe,
    interpolate,
    summarize,
)
from jupyter_tinyai.prompts import TRUNCATED


def helper(a, b=2):
    """Add two numbers."""
    return a + b


class Point:
    def norm(self):
        return 0


def test_small_values_are_written_inline():
    text, pieces = interpolate("Is {n} more than {name}?", {"n": 3, "name": "three"})
    assert text == "Is 3 more than three?"
    assert pieces == []


def test_double_braces_are_literal_and_non_names_are_left_alone():
    text, pieces = interpolate("a dict {{n}} and {} and {'k': 1} but {n}", {"n": 7})
    assert text == "a dict {n} and {} and {'k': 1} but 7"
    assert pieces == []


def test_dataframe_is_summarised_not_dumped():
    df = pd.DataFrame({"price": np.arange(10_000, dtype=float), "city": ["Oslo"] * 10_000})
    text, pieces = interpolate("Why is {df} slow?", {"df": df})
    assert text == "Why is `df` slow?"
    (piece,) = pieces
    assert piece.label == "df (pandas DataFrame)"
    assert "10000 rows × 2 columns" in piece.text
    assert "price: float64" in piece.text
    assert "Oslo" in piece.text
    assert "9999" not in piece.text  # only the first rows
    assert len(piece.text) < 1000


def test_ndarray_summary_has_shape_dtype_and_statistics():
    kind, text = describe(np.array([[1.0, 2.0], [3.0, np.nan]]))
    assert kind == "NumPy array"
    assert "shape: (2, 2), dtype: float64" in text
    assert "min: 1, max: 3, mean: 2" in text
    assert "NaN values: 1" in text


def test_long_strings_and_sequences_are_truncated_with_a_marker():
    piece = summarize("s", "x" * 10_000, max_chars=500)
    assert TRUNCATED.strip() in piece.text and len(piece.text) < 600
    _, text = describe(list(range(1000)))
    assert text.startswith("list of 1000 items: 0, 1, 2") and "(990 more)" in text


def test_functions_and_classes_are_sent_as_source():
    text, pieces = interpolate("{helper} and {Point}", {"helper": helper, "Point": Point})
    assert text == "`helper` and `Point`"
    assert pieces[0].label == "helper (function)" and "return a + b" in pieces[0].text
    assert pieces[1].label == "Point (class)" and "def norm(self)" in pieces[1].text


def test_attributes_and_items():
    text, _ = interpolate("{p.x} {xs[1]}", {"p": type("P", (), {"x": 5})(), "xs": [10, 20]})
    assert text == "5 20"


def test_a_piece_is_sent_once_however_often_it_is_named():
    _, pieces = interpolate("{xs} vs {xs}", {"xs": list(range(50))})
    assert len(pieces) == 1


def test_unknown_name_is_a_one_line_error():
    with pytest.raises(ContextError) as info:
        interpolate("what is {missing}?", {})
    message = str(info.value)
    assert "missing" in message and "\n" not in message


def test_in_out_err_references():
    history = History(
        inputs=["", "x = 1", "x + 41", "1/0"],
        outputs={2: 42},
        errors={3: ErrorRecord(3, "1/0", "Traceback ...\nZeroDivisionError: division by zero", "ZeroDivisionError: division by zero")},
    )
    text, pieces = interpolate("{In[1]} gave {Out[2]}; then {Err}", {}, history)
    assert text == "In[1] gave Out[2]; then the error in cell 3"
    labels = [p.label for p in pieces]
    assert labels[0].startswith("In[1]") and pieces[0].text == "x = 1"
    assert labels[1].startswith("Out[2]") and pieces[1].text == "42"
    assert "ZeroDivisionError" in labels[2] and "1/0" in pieces[2].text
    _, pieces = interpolate("{Err[3]}", {}, history)
    assert "division by zero" in pieces[0].text


def test_missing_history_entries_are_errors():
    history = History(inputs=["", "x = 1"], outputs={}, errors={})
    for ref in ("{In[9]}", "{Out[1]}", "{Err}"):
        with pytest.raises(ContextError):
            interpolate(ref, {}, history)
