"""What ``%explain`` explains: a cell, an object, a cell body, or the last error."""

from __future__ import annotations

import re

from ..context import ContextError, History, describe
from ..prompts import explain_error_prompt, explain_prompt, shorten

_ERR = re.compile(r"^Err(?:\[(-?\d+)\])?$")
_CELL = re.compile(r"^(?:In\[)?(-?\d+)\]?$")


def error_prompt(record, max_chars: int = 4000) -> str:
    return explain_error_prompt(shorten(record.code.rstrip(), max_chars), shorten(record.traceback.rstrip(), max_chars))


def explain_title(target: str, error: bool = False, body: bool = False) -> str:
    """The header of an explanation, like the labextension's ("Explanation of this error")."""
    target = target.strip()
    if body:
        return "Explanation of this code"
    if error or _ERR.match(target):
        return "Explanation of this error"
    if not target:
        return "Explanation of the previous cell"
    match = _CELL.match(target)
    return f"Explanation of In[{match.group(1)}]" if match else f"Explanation of {target}"


def explain_target(target: str, namespace, history: History, error: bool = False, max_chars: int = 4000) -> str:
    """The prompt for ``%explain [target]``; raises ContextError for what does not exist."""
    target = target.strip()
    match = _ERR.match(target)
    if error or match:
        index: int | None = int(match.group(1)) if match and match.group(1) else None
        return error_prompt(history.error(index), max_chars)
    if not target:
        # In[-1] is the %explain cell itself
        inputs = list(history.inputs)
        if len(inputs) < 3 or not inputs[-2].strip():
            raise ContextError("there is no previous cell to explain: run some code first, or write %explain NAME.")
        return explain_prompt(shorten(inputs[-2], max_chars))
    match = _CELL.match(target)
    if match:
        return explain_prompt(shorten(history.cell(int(match.group(1))), max_chars))
    head, *rest = target.split(".")
    if head not in namespace:
        raise ContextError(f"'{head}' is not defined in the kernel: %explain takes a cell number, a name, or Err.")
    obj = namespace[head]
    for attr in rest:
        if not hasattr(obj, attr):
            raise ContextError(f"'{target}' does not exist: no attribute '{attr}'.")
        obj = getattr(obj, attr)
    kind, text = describe(obj)
    if kind in ("function", "class", "module"):
        return explain_prompt(shorten(text, max_chars))
    return (
        f"Explain what this Python object `{target}` ({kind}) is and what it contains, in a few short sentences."
        f"\n\n```\n{shorten(text, max_chars)}\n```"
    )
