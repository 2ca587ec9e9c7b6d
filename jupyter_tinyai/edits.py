"""Proposed edits of a code cell: the request, its prompt, the code in the answer, the diff.

An edit asks the model for the whole new cell (or the whole new selection) in one code
block: with an instruction ("vectorize this loop") it is an edit, with an error's traceback
it is a fix. The answer's first Python code block replaces the cell, or only the selection
(the rest of the cell is kept as it is); an answer with no code, or with the same code,
becomes a one-line message instead of an empty diff. Nothing here runs code or knows of
Jupyter: the engine, the magics, the server and the labextension share it.

    stream = engine.edit(cell, instruction="add type hints")
    for chunk in stream:
        print(chunk.text, end="")
    stream.result.diff  # or stream.result.message when there is nothing to apply
"""

from __future__ import annotations

import ast
import difflib
import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from .errors import EmptyPrompt, InvalidRequest
from .types import Chunk, Stats

SYSTEM = (
    "You are a Python programmer who edits notebook cells. Reply with the complete new code "
    "in one ```python code block. Keep everything the request does not ask to change."
)

#: a traceback longer than this is cut (head and tail kept): the cause is at its ends
MAX_ERROR_CHARS = 3000

#: code block languages taken as the cell's code
PYTHON = {"", "python", "py", "python3", "ipython", "ipython3"}

NOT_CODE = "TinyAI answered without code, so there is nothing to apply: ask again, or say more precisely what to change."
SAME = "TinyAI proposed no change: the code it returned is the code already there."
CUT_OFF = (
    "TinyAI's answer was cut off before its code ended ({tokens} tokens): nothing to apply; "
    "raise max_tokens, or select the part of the cell to change."
)
STOPPED = "The answer was stopped before its code ended: nothing to apply."

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`}]*)")


@dataclass
class EditRequest:
    """What to rewrite: ``code`` (the cell), the user's ``instruction`` and/or the
    ``error`` it raised (its traceback), and optionally a ``selection``: the [start, end)
    character offsets of the part of ``code`` to rewrite, the rest staying as it is."""

    code: str
    instruction: str | None = None
    error: str | None = None
    selection: tuple[int, int] | None = None

    def __post_init__(self):
        if self.selection is not None:
            self.selection = tuple(self.selection)

    @property
    def kind(self) -> str:
        return "fix" if self.error and not self.instruction else "edit"

    def check(self) -> EditRequest:
        """This request, or an error saying in one line what is missing or wrong."""
        if not isinstance(self.code, str) or not self.code.strip():
            raise EmptyPrompt("the cell is empty: there is no code to edit.")
        if not (self.instruction or "").strip() and not (self.error or "").strip():
            raise EmptyPrompt("say what to change (an instruction), or give the error to fix.")
        if self.selection is not None:
            start, end = self.selection if len(self.selection) == 2 else (None, None)
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)) or not 0 <= start < end <= len(self.code):
                raise InvalidRequest(
                    f"'selection' must be two character offsets [start, end) within the cell's {len(self.code)} "
                    f"characters, start before end; not {list(self.selection)!r}."
                )
            if not self.code[start:end].strip():
                raise EmptyPrompt("the selection is blank: select the code to change, or nothing to change the whole cell.")
        return self

    def to_dict(self) -> dict:
        data = asdict(self)
        data["selection"] = list(self.selection) if self.selection is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> EditRequest:
        if not isinstance(data, dict):
            raise InvalidRequest("an edit must be a JSON object with 'code' and an 'instruction' or an 'error'.")
        known = {k: data.get(k) for k in ("code", "instruction", "error", "selection")}
        for name in ("code", "instruction", "error"):
            if known[name] is not None and not isinstance(known[name], str):
                raise InvalidRequest(f"'{name}' must be a string.")
        if known["code"] is None:
            known["code"] = ""
        if known["selection"] is not None and not isinstance(known["selection"], (list, tuple)):
            raise InvalidRequest("'selection' must be two character offsets [start, end).")
        return cls(**known).check()

    # -- what is rewritten ------------------------------------------------------------------

    def _indent(self) -> str:
        """The indentation the selected lines share, when the selection starts a line."""
        start, end = self.selection
        if start and self.code[start - 1] != "\n":
            return ""
        lines = [line for line in self.code[start:end].splitlines() if line.strip()]
        return _common_prefix([line[: len(line) - len(line.lstrip())] for line in lines])

    def part(self) -> str:
        """The code the model rewrites: the selection (without its shared indentation), or
        the whole cell."""
        if self.selection is None:
            return self.code.strip("\n")
        start, end = self.selection
        text = self.code[start:end]
        indent = self._indent()
        if indent:
            text = "\n".join(line[len(indent):] if line.strip() else "" for line in text.split("\n"))
        return text.strip("\n")

    def prompt(self) -> str:
        """The user message: the code, the error, the instruction, and the answer's shape."""
        parts = []
        if self.selection is not None:
            parts.append(f"This is a Python notebook cell:\n\n```python\n{self.code.strip(chr(10))}\n```")
            what, whole = "this part of it", "the new version of that part only"
        else:
            what, whole = "this Python code", "the whole new code"
        if self.error and self.error.strip():
            parts.append(f"Fix {what}" + (f" ({self.instruction.strip()})" if self.instruction else "") + ":")
        else:
            parts.append(f"Change {what}: {self.instruction.strip()}")
        parts.append(f"```python\n{self.part()}\n```")
        if self.error and self.error.strip():
            parts.append(f"It raised this error:\n\n```\n{error_text(self.error)}\n```")
        parts.append(f"Reply with {whole}, in one ```python code block.")
        return "\n\n".join(parts)

    def splice(self, new_part: str) -> str:
        """The whole new cell with ``new_part`` (the model's code) in place of what was rewritten."""
        new_part = new_part.strip("\n")
        if self.selection is None:
            return new_part + ("\n" if self.code.endswith("\n") else "")
        start, end = self.selection
        indent = self._indent()
        if indent:
            lines = textwrap.dedent(new_part).split("\n")
            new_part = "\n".join(indent + line if line.strip() else "" for line in lines)
        selected = self.code[start:end]
        # blank lines before, and whitespace after, the selected code stay as they were
        lead = selected[: len(selected) - len(selected.lstrip())]
        lead = lead[: lead.rfind("\n") + 1]
        trail = selected[len(selected.rstrip()):]
        if not indent and not lead and selected[:1].isspace():
            new_part = selected[: len(selected) - len(selected.lstrip(" \t"))] + new_part.lstrip(" \t")
        return self.code[:start] + lead + new_part + trail + self.code[end:]


def error_text(error: str) -> str:
    """A traceback as the model is shown it: without terminal colours, cut to its ends."""
    return _short(_ANSI.sub("", error).strip())


@dataclass
class EditResult:
    """The outcome of an edit: the whole new cell and its diff against the old one, or a
    one-line ``message`` saying why there is nothing to apply."""

    code: str | None  # the new cell; None when there is nothing to apply
    diff: str  # the unified diff of the cell; "" when there is none
    message: str | None  # one line for the user when there is nothing to apply
    answer: str  # the model's whole answer
    stats: Stats | None = None

    @property
    def ok(self) -> bool:
        return self.code is not None

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "diff": self.diff,
            "message": self.message,
            "answer": self.answer,
            "stats": self.stats.to_dict() if self.stats else None,
        }


def code_block(answer: str) -> tuple[str | None, bool]:
    """The first Python (or unlabelled) fenced code block of ``answer`` and whether it is
    closed; (None, False) when there is none. An unclosed block runs to the end."""
    lines = answer.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, language = opening.group(1), opening.group(2).lower().lstrip("{.")
        closing = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if language in PYTHON:
            return "\n".join(lines[i + 1 : end]), end is not None
        if end is None:
            return None, False
        i = end + 1
    return None, False


def looks_like_code(text: str) -> bool:
    """Whether an answer without a fence is itself Python code (not a sentence)."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return False
    trivial = (ast.Name, ast.Constant)
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, trivial)) for node in tree.body)


def _normal(code: str) -> list[str]:
    """``code``'s lines as far as a change matters (not trailing spaces or blank lines)."""
    return [line.rstrip() for line in code.strip("\n").splitlines()]


def unified_diff(old: str, new: str, name: str = "cell") -> str:
    """The unified diff of a cell's ``old`` and ``new`` source, 3 lines of context."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), fromfile=f"{name} (now)", tofile=f"{name} (proposed)", lineterm=""
    )
    return "\n".join(lines)


def result(request: EditRequest, answer: str, stats: Stats | None = None, name: str = "cell") -> EditResult:
    """What the model's ``answer`` to ``request`` proposes, or why it proposes nothing."""
    block, closed = code_block(answer)
    if block is None and looks_like_code(answer.strip()):
        block, closed = answer.strip(), True
    finish = stats.finish_reason if stats is not None else "stop"
    if block is not None and not closed and finish in ("length", "cancelled"):
        message = CUT_OFF.format(tokens=stats.generated_tokens) if finish == "length" else STOPPED
        return EditResult(None, "", message, answer, stats)
    if block is None or not block.strip():
        return EditResult(None, "", NOT_CODE, answer, stats)
    code = request.splice(block)
    if _normal(code) == _normal(request.code):
        return EditResult(None, "", SAME, answer, stats)
    return EditResult(code, unified_diff(request.code, code, name), None, answer, stats)


class EditStream:
    """An edit's answer as it streams (its chunks), then its :class:`EditResult`; reading
    ``result`` before the end reads the rest of the answer first."""

    def __init__(self, request: EditRequest, chunks: Iterable[Chunk], name: str = "cell"):
        self.request = request
        self.name = name
        self._chunks = iter(chunks)
        self._parts: list[str] = []
        self._stats: Stats | None = None
        self._result: EditResult | None = None

    def __iter__(self) -> Iterator[Chunk]:
        for chunk in self._chunks:
            self._parts.append(chunk.text)
            self._stats = chunk.stats or self._stats
            yield chunk
        if self._result is None:
            self._result = result(self.request, "".join(self._parts), self._stats, self.name)

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close:
            close()

    @property
    def result(self) -> EditResult:
        if self._result is None:
            for _ in self:
                pass
        return self._result


def _common_prefix(strings: list[str]) -> str:
    if not strings:
        return ""
    first, last = min(strings), max(strings)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]


def _short(text: str) -> str:
    from .prompts import shorten

    return shorten(text, MAX_ERROR_CHARS)
