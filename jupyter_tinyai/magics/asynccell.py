"""In a kernel, run ``%%ask`` / ``%ask`` / ``%explain`` cells as async cells.

A synchronous cell blocks the kernel's event loop, so a widget click (the Stop button)
would wait until the answer is over. When a whole cell is one of our magics, this input
transformer turns IPython's ``get_ipython().run_cell_magic('ask', ...)`` into an
``await`` of the same magic's coroutine; ipykernel then runs the cell as an async cell and
dispatches comm messages (widget clicks) while it awaits. The kernel's interrupt cancels
the coroutine, which stops the answer and keeps its text.

Only whole-cell uses are rewritten (``x = %ask ...`` stays synchronous), only in a
kernel (the terminal has no widgets), and the rewritten cell calls the same magic.
"""

from __future__ import annotations

import re

ASYNC_MAGICS = ("ask", "explain")

_CALL = re.compile(
    r"\Aget_ipython\(\)\.run_(?P<kind>cell|line)_magic\(\s*'(?P<name>%s)'\s*,(?P<args>[^\n]*)\)\s*\Z"
    % "|".join(ASYNC_MAGICS),
    re.DOTALL,
)


_QUESTION = re.compile(r"^(?P<indent>[ \t]*)%%(?P<name>%s)[ \t]+(?P<line>\S.*\?)[ \t]*$" % "|".join(ASYNC_MAGICS))


def keep_question_marks(lines: list[str]) -> list[str]:
    """``input_transformers_cleanup`` hook: ``%ask What is X?`` is a question, not a help
    request (IPython reads a trailing ``?`` as ``pinfo``): write the call out before
    IPython's help transform sees the line. ``%ask?`` alone still shows the help."""
    out = []
    for line in lines:
        match = _QUESTION.match(line.rstrip("\n"))
        if match:
            line = (
                f"{match.group('indent')}get_ipython().run_line_magic('{match.group('name')}', {match.group('line')!r})"
                + ("\n" if line.endswith("\n") else "")
            )
        out.append(line)
    return out


def _runs_async_cells() -> bool:
    """Whether the kernel awaits async cells on its asyncio loop (not after ``%autoawait off``
    or with another runner such as trio): otherwise the cell stays synchronous."""
    from IPython import get_ipython
    from IPython.core.interactiveshell import _asyncio_runner

    shell = get_ipython()
    return bool(shell is not None and shell.autoawait and shell.loop_runner is _asyncio_runner)


def transform(lines: list[str]) -> list[str]:
    """``input_transformers_post`` hook: rewrite a cell that is one call of our magics."""
    source = "".join(lines)
    match = _CALL.match(source)
    if not match or not _runs_async_cells():
        return lines
    return [
        f"await __import__('jupyter_tinyai.magics.asynccell', fromlist=['run']).run("
        f"'{match.group('kind')}', '{match.group('name')}',{match.group('args')})\n"
    ]


async def run(kind: str, name: str, line: str, cell: str | None = None):
    from IPython import get_ipython

    from . import _magics_of

    magics = _magics_of(get_ipython())
    return await magics.run_async(name, line, cell if kind == "cell" else None)


def install(shell) -> None:
    if keep_question_marks not in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.append(keep_question_marks)
    if getattr(shell, "kernel", None) is not None and transform not in shell.input_transformers_post:
        shell.input_transformers_post.append(transform)


def uninstall(shell) -> None:
    for hooks, hook in ((shell.input_transformers_cleanup, keep_question_marks), (shell.input_transformers_post, transform)):
        while hook in hooks:
            hooks.remove(hook)
