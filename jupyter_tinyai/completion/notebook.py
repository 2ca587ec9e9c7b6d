"""A notebook as a completion's context: one script around the cursor.

The cells before the cursor's cell and its code up to the cursor make the prefix; the rest of
its code and the cells after it make the suffix. Cells are written in the percent format that
code models know from scripts (``# %%``, ``# %% [markdown]``), Markdown as comments, raw cells
left out. Recently edited cells become extra chunks (the lane leaves out those already in the
prefix or the suffix).

    prefix, suffix, extra = notebook_context(cells, 2, before="df.", after="", recent=[0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..types import ContextPiece
from .formats import comment_leader


@dataclass(frozen=True)
class Cell:
    cell_type: str  # "code" | "markdown" | "raw"
    source: str

    @classmethod
    def from_dict(cls, data: dict) -> Cell:
        source = data.get("source", "")
        if isinstance(source, list):  # nbformat's list of lines
            source = "".join(source)
        return cls(str(data.get("cell_type", "code")), str(source))


def render_cell(cell: Cell, language: str = "python") -> str:
    """One cell as a piece of script ("" for a raw cell)."""
    leader = comment_leader(language)
    if cell.cell_type == "markdown":
        lines = cell.source.rstrip("\n").split("\n")
        return f"{leader} %% [markdown]\n" + "\n".join(f"{leader} {line}".rstrip() for line in lines) + "\n"
    if cell.cell_type == "code":
        return f"{leader} %%\n{cell.source.rstrip(chr(10))}\n"
    return ""


def notebook_context(
    cells: Sequence[Cell],
    index: int,
    before: str,
    after: str,
    *,
    language: str = "python",
    recent: Sequence[int] = (),
) -> tuple[str, str, list[ContextPiece]]:
    """(prefix, suffix, extra) for a cursor in ``cells[index]`` with ``before``/``after`` the
    cell's code on either side of it; ``recent``: indices of recently edited cells, the most
    recent last."""
    if not 0 <= index < len(cells):
        raise IndexError(f"cell {index} is not in a notebook of {len(cells)} cells")
    leader = comment_leader(language)
    head = "".join(part + "\n" for part in (render_cell(c, language) for c in cells[:index]) if part)
    tail = "".join("\n" + part for part in (render_cell(c, language) for c in cells[index + 1 :]) if part)
    prefix = f"{head}{leader} %%\n{before}"
    suffix = after + ("\n" if tail and not after.endswith("\n") else "") + tail
    extra = [
        ContextPiece(f"cell {i + 1}", cells[i].source)
        for i in recent
        if 0 <= i < len(cells) and i != index and cells[i].cell_type == "code" and cells[i].source.strip()
    ]
    return prefix, suffix, extra
