"""Completion requests as they arrive over HTTP, checked into ``Client.complete`` arguments.

Two shapes, one checker each:

- the code around the cursor (the host's ``/tinyai/complete``, what ``HostClient`` sends)::

      {"prefix": "...", "suffix": "...", "extra": [{"label", "text"}], "model", "language",
       "max_tokens", "max_lines", "time_budget", "session"}

- a notebook and a cursor in it (the Jupyter server's ``/tinyai/complete``, what the
  JupyterLab provider sends)::

      {"cells": [{"cell_type", "source"}], "index", "before", "after", "recent": [int],
       "language", "model", "max_lines", "session"}

A bad field is an :class:`~jupyter_tinyai.errors.InvalidRequest` naming it.
"""

from __future__ import annotations

from ..errors import EmptyPrompt, InvalidRequest
from ..types import ContextPiece
from .notebook import Cell, notebook_context

#: most cells read from one notebook request
MAX_CELLS = 10_000

_OPTIONAL = {"model": str, "language": str, "session": str, "max_tokens": int, "max_lines": int,
             "time_budget": (int, float)}


def _text(data: dict, name: str, default: str | None = None) -> str:
    value = data.get(name, default)
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be text.")
    return value


def _options(data: dict) -> dict:
    options = {}
    for name, kind in _OPTIONAL.items():
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, kind):
            what = "text" if kind is str else "a number"
            raise InvalidRequest(f"'{name}' must be {what}, not {value!r}.")
        options[name] = value
    return options


def complete_kwargs(data) -> dict:
    """``Client.complete`` keyword arguments from a body of the first shape."""
    if not isinstance(data, dict):
        raise InvalidRequest("a completion request is a JSON object with 'prefix' (and 'suffix').")
    extra = data.get("extra") or []
    if not isinstance(extra, list) or not all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in extra):
        raise InvalidRequest("'extra' must be a list of {\"label\", \"text\"} objects.")
    return {
        "prefix": _text(data, "prefix"),
        "suffix": _text(data, "suffix", ""),
        "extra": [ContextPiece(str(p.get("label") or ""), p["text"]) for p in extra],
        **_options(data),
    }


def notebook_kwargs(data) -> dict:
    """``Client.complete`` keyword arguments from a body of the second shape."""
    if not isinstance(data, dict):
        raise InvalidRequest("a completion request is a JSON object with 'cells', 'index', 'before' and 'after'.")
    cells = data.get("cells")
    if not isinstance(cells, list) or not cells or len(cells) > MAX_CELLS or not all(isinstance(c, dict) for c in cells):
        raise InvalidRequest(f"'cells' must be a list of 1 to {MAX_CELLS:,} cells ({{\"cell_type\", \"source\"}}).")
    index = data.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cells):
        raise InvalidRequest(f"'index' must be the number of the cursor's cell, from 0 to {len(cells) - 1}.")
    recent = data.get("recent") or []
    if not isinstance(recent, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in recent):
        raise InvalidRequest("'recent' must be a list of cell numbers.")
    try:
        notebook = [Cell.from_dict(c) for c in cells]
    except (TypeError, ValueError):
        raise InvalidRequest("each cell must be {\"cell_type\", \"source\"} with text as its source.") from None
    options = _options(data)
    before = _text(data, "before")
    if not before.strip() and not any(cell.source.strip() for cell in notebook[:index]):
        raise EmptyPrompt("nothing to complete: there is no code before the cursor. Type some code first.")
    prefix, suffix, extra = notebook_context(notebook, index, before, _text(data, "after", ""),
                                             language=options.get("language", "python"), recent=recent)
    return {"prefix": prefix, "suffix": suffix, "extra": extra, **options}
