"""Fitting a completion's context into its token budget.

The prefix keeps its end (the code just before the cursor), the suffix its start, the extra
chunks their newest. Cuts fall on line boundaries, and the prefix's cut moves in steps of
:data:`STEP_LINES` lines: while the user types at the end, the start of the prompt stays the
same from one keystroke to the next, so the cached tokens of it stay usable.

    limits = Limits.of(n_ctx=2048, max_tokens=64)
    suffix = keep_start(suffix, limits.suffix, count)
    prefix = keep_end(prefix, limits.prompt - count(suffix), count)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..types import ContextPiece

Count = Callable[[str], int]

#: the prefix's first line moves by this many lines at a time
STEP_LINES = 16
#: tokens kept for the prompt's own words and special tokens
RESERVED = 64


@dataclass(frozen=True)
class Limits:
    prompt: int  # all of the prompt
    suffix: int  # the code after the cursor, at most
    extra: int  # the extra chunks, at most

    @classmethod
    def of(cls, n_ctx: int, max_tokens: int) -> Limits:
        prompt = max(0, n_ctx - max_tokens - RESERVED)
        return cls(prompt=prompt, suffix=prompt // 4, extra=prompt // 4)


def keep_end(text: str, limit: int, count: Count, step: int = STEP_LINES) -> str:
    """The end of ``text`` within ``limit`` tokens, starting at a line whose number is a
    multiple of ``step`` when one fits (else at any line, else inside the last line)."""
    if limit <= 0 or not text:
        return ""
    if count(text) <= limit:
        return text
    lines = text.splitlines(keepends=True)

    def fits(start: int) -> bool:
        return count("".join(lines[start:])) <= limit

    steps = (len(lines) - 1) // step
    if steps and fits(steps * step):
        low, high = 1, steps  # the smallest step that fits: fits(high) holds
        while low < high:
            middle = (low + high) // 2
            if fits(middle * step):
                high = middle
            else:
                low = middle + 1
        return "".join(lines[high * step :])
    for start in range(steps * step + 1, len(lines)):
        if fits(start):
            return "".join(lines[start:])
    return _chars_end(lines[-1], limit, count)


def keep_start(text: str, limit: int, count: Count) -> str:
    """The start of ``text`` within ``limit`` tokens, ending at a line end when one fits."""
    if limit <= 0 or not text:
        return ""
    if count(text) <= limit:
        return text
    lines = text.splitlines(keepends=True)
    low, high = 0, len(lines)  # the most lines that fit: low fits, high does not
    while high - low > 1:
        middle = (low + high) // 2
        if count("".join(lines[:middle])) <= limit:
            low = middle
        else:
            high = middle
    if low:
        return "".join(lines[:low])
    return _chars_start(lines[0], limit, count)


def keep_newest(pieces: Sequence[ContextPiece], limit: int, count: Count) -> list[ContextPiece]:
    """The newest (last) pieces that fit in ``limit`` tokens together, in their order; a piece
    too long for what is left is cut to its start."""
    kept: list[ContextPiece] = []
    left = limit
    for piece in reversed(pieces):
        if left <= 0:
            break
        text = keep_start(piece.text, left, count)
        if text.strip():
            kept.append(ContextPiece(piece.label, text))
            left -= count(text)
    return kept[::-1]


def _chars_end(line: str, limit: int, count: Count) -> str:
    keep = len(line)
    while keep and count(line[-keep:]) > limit:
        keep = keep * 3 // 4
    return line[-keep:] if keep else ""


def _chars_start(line: str, limit: int, count: Count) -> str:
    keep = len(line)
    while keep and count(line[:keep]) > limit:
        keep = keep * 3 // 4
    return line[:keep]
