"""``%fix`` and ``%%edit``: a proposed edit of a cell, shown as a coloured unified diff and
offered as the next cell (``set_next_input``: never run).

    %fix            # the cell of the last error
    %fix 12         # cell 12, which raised an error

    %%edit 12
    vectorize this loop

The request comes from the kernel's history; the answer streams as code, then the output
becomes the diff against the cell (HTML in a notebook, ANSI colours in a terminal) with the
usual provenance metadata, or one line when the answer has no code or the same code.
"""

from __future__ import annotations

import html
import re

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..context import ContextError, History
from ..edits import EditRequest
from ..options import magic_options
from .display import METADATA_KEY, MessageError, answer_view, footer, metadata
from .options import _parse, _user_errors
from .session import _new_id
from .stream import Generation

_CELL = re.compile(r"^(?:In\[)?(-?\d+)\]?$")
_EDIT_LINE = re.compile(r"%%edit(?:\s|$)")

#: diff line colours: translucent, so that they read on light and dark themes alike
_ADDED = "background-color: rgba(46, 160, 67, 0.22)"
_REMOVED = "background-color: rgba(248, 81, 73, 0.22)"
_HUNK = "color: var(--jp-content-font-color2, #6e7781)"
_ANSI = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}


def _cell_number(target: str, command: str) -> int | None:
    target = target.strip()
    if not target:
        return None
    match = _CELL.match(target)
    if not match:
        raise ContextError(f"{command} takes a cell number (12 or In[12]), not {target!r}.")
    return int(match.group(1))


def fix_request(target: str, history: History) -> tuple[EditRequest, str]:
    """``%fix`` (the cell of the last error) or ``%fix 12`` (cell 12, which raised one): the
    request, and the label of the cell it rewrites ("In[12]")."""
    number = _cell_number(target, "%fix")
    if number is not None and number > 0 and number not in history.errors:
        raise ContextError(f"cell {number} raised no error: to change it, write %%edit {number} with what to change below.")
    if not history.errors:
        raise ContextError("no cell has raised an error in this kernel yet: there is no error to fix (to change a cell, write %%edit N with what to change below).")
    record = history.error(number)
    if not record.code.strip():
        raise ContextError(f"the code of cell {record.execution_count} is not known: run it again, then %fix.")
    return EditRequest(record.code, error=record.traceback).check(), f"In[{record.execution_count}]"


def edit_request(target: str, instruction: str, history: History) -> tuple[EditRequest, str]:
    """``%%edit 12`` with the instruction as the body (no number: the previous cell)."""
    if not instruction.strip():
        raise ContextError("write what to change in the cell below %%edit N, e.g. 'vectorize this loop'.")
    number = _cell_number(target, "%%edit")
    if number is None:
        number = len(history.inputs) - 2  # In[-1] is this %%edit cell
        if number < 1:
            raise ContextError("there is no previous cell to edit: run some code first, or write %%edit N.")
    code = history.cell(number)
    count = number if number > 0 else len(history.inputs) + number
    return EditRequest(code, instruction=instruction.strip()).check(), f"In[{count}]"


def empty_edit_body(lines: list[str]) -> list[str]:
    """An input transformer: ``%%edit N`` with nothing below gets a blank body. IPython
    answers a cell magic with an empty body itself ("Did you mean the line magic %edit?",
    its own editor magic), so without one %%edit never says what to write."""
    if lines and _EDIT_LINE.match(lines[0]) and not "".join(lines[1:]).strip():
        return [lines[0].rstrip("\n") + "\n", "\n"]
    return lines


def diff_html(diff: str) -> str:
    """``diff`` (unified) as HTML: added lines green, removed red, escaped."""
    rows = []
    for line in diff.splitlines():
        style = ""
        if line.startswith(("+++", "---")):
            style = "font-weight: bold"
        elif line.startswith("+"):
            style = _ADDED
        elif line.startswith("-"):
            style = _REMOVED
        elif line.startswith("@@"):
            style = _HUNK
        text = html.escape(line) or " "
        rows.append(f'<span style="display: block; {style}">{text}</span>' if style else f'<span style="display: block">{text}</span>')
    return '<pre class="jp-TinyAI-diff" style="margin: 0; padding: 4px 0">' + "".join(rows) + "</pre>"


def diff_ansi(diff: str) -> str:
    """``diff`` (unified) with terminal colours."""
    lines = []
    for line in diff.splitlines():
        colour = "\x1b[1m" if line.startswith(("+++", "---")) else _ANSI.get(line[:1], "")
        lines.append(f"{colour}{line}\x1b[0m" if colour else line)
    return "\n".join(lines)


# -- the magics ------------------------------------------------------------------------------


class EditGeneration(Generation):
    """A :class:`Generation` of an edit: ``client.edit``; its ``stream`` keeps the result."""

    def __init__(self, client, request: EditRequest, view, **kwargs):
        super().__init__(client, "", view, **kwargs)
        self.request = request
        self.stream = None

    def _chunks(self):
        r = self.request
        self.stream = self.client.edit(r.code, instruction=r.instruction, error=r.error, selection=r.selection,
                                       cancel=self.cancel_event, progress=self._on_progress, **self.kwargs)
        return self.stream


@magics_class
class EditMagics(Magics):
    def __init__(self, shell, session):
        super().__init__(shell)
        self.session = session

    @magic_arguments()
    @magic_options("model", "max_tokens")
    @argument("target", nargs="?", default="", help="the cell to fix (12 or In[12]); default: the last error's cell")
    @line_magic
    def fix(self, line):
        """Propose a fix of the cell that raised the last error (or ``%fix 12``: cell 12).

        The proposed cell streams into the output, then shows as a coloured diff against the
        cell, and is offered as the next cell: nothing is run until you run it. An answer with
        no code, or with the same code, gives one line saying so."""
        request, label, args = self._fix_request(line)
        return self._propose(request, label, args)

    @_user_errors
    def _fix_request(self, line: str):
        args, rest = _parse(self.fix, line)
        request, label = fix_request(rest, self.session.history())
        return request, label, args

    @magic_arguments()
    @magic_options("model", "max_tokens")
    @argument("target", nargs="?", default="", help="the cell to edit (12 or In[12]); default: the previous cell")
    @cell_magic
    def edit(self, line, cell):
        """Propose an edit of a cell, the instruction as the body::

            %%edit 12
            vectorize this loop

        The proposed cell streams into the output, then shows as a coloured diff against
        cell 12, and is offered as the next cell: nothing is run until you run it."""
        request, label, args = self._edit_request(line, cell)
        return self._propose(request, label, args)

    @_user_errors
    def _edit_request(self, line: str, cell: str):
        args, rest = _parse(self.edit, line)
        request, label = edit_request(rest, cell, self.session.history())
        return request, label, args

    def _propose(self, request: EditRequest, label: str, args) -> None:
        session = self.session
        conversation = _new_id("edit")
        view = answer_view(self.shell, "code")
        generation = EditGeneration(session.client, request, view, conversation=conversation,
                                    model=session.model_for(args.model), max_tokens=args.max_tokens)
        outcome = generation.run()
        client = session.client
        try:
            client.reset(conversation)
        except Exception:  # noqa: BLE001 - the host went away meanwhile: nothing to forget
            pass
        if outcome.error is not None:
            view.clear()
            raise MessageError.of(outcome.error)
        if outcome.interrupted:
            raise MessageError("the edit was interrupted: nothing to apply.", "interrupted")
        result = generation.stream.result
        try:
            spec = (client.status() or {}).get("model")
        except Exception:  # noqa: BLE001 - the metadata then names the model from the figures
            spec = None
        params = {"temperature": 0.0, "max_tokens": args.max_tokens, "seed": None, "system": "edit"}
        meta = metadata(outcome.stats, spec, params, conversation, outcome.notice, outcome.stopped)
        meta[METADATA_KEY]["edit"] = {"request": request.kind, "cell": label, "proposed": result.ok}
        foot = footer(outcome.stats, outcome.stopped)
        if result.ok:
            show(view, diff_bundle(result.diff, foot), diff_ansi(result.diff) + (f"\n\n[{foot}]" if foot else ""), meta)
            self.shell.set_next_input(result.code, replace=False)
        else:
            show(view, {"text/plain": result.message}, result.message, meta)


def diff_bundle(diff: str, foot: str) -> dict:
    sub = f'<div style="font-size: 85%; opacity: 0.7">{html.escape(foot)}</div>' if foot else ""
    hint = "The proposed cell is below, not run: run it to apply the change, or delete it."
    return {
        "text/html": diff_html(diff) + sub + f"<div><em>{hint}</em></div>",
        "text/plain": diff + (f"\n\n{foot}" if foot else "") + f"\n\n{hint}",
    }


def show(view, bundle: dict, terminal: str, meta: dict) -> None:
    """Replace the streamed answer in ``view`` with ``bundle`` (a notebook) or print ``terminal``."""
    display_id = getattr(view, "display_id", None)
    if display_id is None:  # a terminal: the answer was printed as it came
        view.end_progress()
        view.stream.write("\n" + terminal + "\n")
        view.stream.flush()
        return
    from IPython.display import clear_output, display, update_display

    if view.alone:
        clear_output(wait=True)
        display(bundle, raw=True, metadata=meta, display_id=display_id)
        return
    view.end_progress()
    update_display(bundle, raw=True, metadata=meta, display_id=display_id)
