"""Getting a model from a notebook: ``%tinyai pull NAME`` and the catalog section.

    %tinyai pull qwen2.5-coder-1.5b       # a progress bar with Cancel; the notebook stays usable
    %tinyai catalog                       # the catalog with fit badges and Download buttons

:func:`catalog_section` returns the catalog as an ipywidgets.Widget, for the ``%tinyai``
panel too. A pull runs in a thread of the kernel (the cell returns at once, Cancel keeps the
partial file for the next pull); without ipywidgets it runs in the cell with a text progress
line that Ctrl-C / the kernel's interrupt stops.
"""

from __future__ import annotations

import html
import threading

from .display import MessageError

#: colours of the fit badges (JupyterLab's success, warning and error colours)
BADGE_COLOURS = {"fits": "var(--jp-success-color1, #388e3c)", "tight": "var(--jp-warn-color1, #f57c00)",
                 "too large": "var(--jp-error-color1, #d32f2f)"}


def _widgets():
    from .widgets import _widgets as find

    return find()


def parse_pull_args(args: list) -> tuple:
    """``NAME [--quant Q] [--force]`` -> (name, quant, force)."""
    words, names, quant, force = list(args), [], None, False
    while words:
        word = words.pop(0)
        if word == "--force":
            force = True
        elif word == "--quant" and words and not quant:
            quant = words.pop(0)
        elif word.startswith("--quant=") and not quant:
            quant = word.split("=", 1)[1]
        elif word.startswith("-"):
            names = []  # an unknown option: the usage below
            break
        else:
            names.append(word)
    if len(names) != 1 or quant == "":
        raise MessageError("write %tinyai pull NAME [--quant Q8_0] [--force]; NAME: a catalog name (see "
                           "%tinyai catalog), org/repo or org/repo/file.gguf.", "usage")
    return names[0], quant, force


class PullView:
    """One pull in a notebook output: a progress bar with its line, and Cancel."""

    def __init__(self, session, name: str, quant: str | None = None, force: bool = False, on_done=None):
        w = _widgets()
        self.session, self.name, self.quant, self.force = session, name, quant, force
        self.on_done = on_done
        self.cancel = threading.Event()
        self.state = "running"  # running | done | failed | cancelled
        self.spec = None
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=1.0, description="Pulling",
                                   layout=w.Layout(width="24em"))
        self.cancel_button = w.Button(description="Cancel", icon="stop", tooltip="Stop (what was downloaded is kept)",
                                      layout=w.Layout(width="7em"))
        self.cancel_button.on_click(lambda _b: self.cancel.set())
        self.line = w.HTML(html.escape(f"{name}: looking it up on the Hub…"))
        self.widget = w.VBox([w.HBox([self.bar, self.cancel_button]), self.line])
        self.thread = threading.Thread(target=self._run, name=f"tinyai-pull {name}", daemon=True)

    def start(self) -> PullView:
        self.thread.start()
        return self

    def _progress(self, p) -> None:
        self.bar.value = p.fraction
        self.line.value = html.escape(p.message())

    def _run(self) -> None:
        from ..errors import PullCancelled, TinyAIError
        from ..models.pull import pull_file

        try:
            pulled = pull_file(self.name, self.quant, force=self.force, progress=self._progress, cancel=self.cancel,
                               settings=self.session.settings)
        except PullCancelled as stopped:
            self._end("cancelled", "warning", str(stopped))
        except TinyAIError as error:
            self._end("failed", "danger", str(error))
        except Exception as error:  # noqa: BLE001 - shown, never lost in a thread
            self._end("failed", "danger", f"the pull failed: {type(error).__name__}: {error}")
        else:
            self.spec = pulled.spec
            f = pulled.file
            what = f"{f.repo_id}/{f.filename}" if f.filename else f.repo_id
            self.bar.value = 1.0
            self._end("done", "success", f"pulled {what}; use it with %tinyai use {pulled.spec.id}")
            if self.on_done is not None:
                self.on_done(self)

    def _end(self, state: str, style: str, message: str) -> None:
        self.state = state
        self.bar.bar_style = style
        self.bar.description = {"done": "Pulled", "cancelled": "Stopped", "failed": "Failed"}[state]
        self.cancel_button.layout.display = "none"
        self.line.value = html.escape(message)


def pull(session, args) -> PullView | None:
    """``%tinyai pull NAME``: download a model with a progress bar and Cancel."""
    name, quant, force = parse_pull_args(args)
    if _widgets() is None:
        _pull_in_cell(session, name, quant, force)
        return None
    from IPython.display import display

    view = PullView(session, name, quant, force)
    display(view.widget)
    return view.start()


def _pull_in_cell(session, name, quant, force) -> None:
    """Without ipywidgets: the CLI's progress line; Ctrl-C stops the pull."""
    import sys

    from ..errors import TinyAIError
    from ..models.commands import _PullView
    from ..models.pull import pull_file

    try:
        pulled = pull_file(name, quant, force=force, progress=_PullView(sys.stdout), settings=session.settings)
    except KeyboardInterrupt:
        raise MessageError(f"stopped: what was downloaded is kept; %tinyai pull {name} again resumes.", "interrupted") from None
    except TinyAIError as error:
        raise MessageError.of(error) from None
    print(f"\npulled; use it with %tinyai use {pulled.spec.id}")


def _badge(badge: str) -> str:
    colour = BADGE_COLOURS.get(badge, "gray")
    return (f'<span class="tinyai-badge" style="background:{colour};color:white;border-radius:8px;'
            f'padding:0 6px;font-size:smaller">{html.escape(badge)}</span>')


def _entry_html(offer, pulled: bool) -> str:
    from ..models.spec import human_size

    entry = offer.entry
    best = f' <i>best here for {html.escape(", ".join(offer.best_for))}</i>' if offer.best_for else ""
    facts = " · ".join(x for x in (", ".join(entry.roles), entry.params, f"{human_size(offer.size_bytes)} download",
                                   f"needs {human_size(offer.fit.need_bytes)}",
                                   "reasons before answering" if entry.reasoning else "",
                                   "downloaded" if pulled else "") if x)
    return f"<b>{html.escape(entry.title)}</b> {_badge(offer.fit.badge)}{best}<br><small>{html.escape(facts)}</small>"


def catalog_section(session):
    """The catalog as a widget: this machine's memory, then each model with its fit badge
    and a Download button (which becomes the pull's progress bar and Cancel)."""
    w = _widgets()
    if w is None:
        return None
    from ..memory import memory_budget
    from ..models import catalog
    from ..models.pulled import is_pulled, pulled_builds
    from ..models.spec import human_size

    budget = memory_budget()
    offers = catalog.recommend(session.settings, budget)
    builds = pulled_builds()
    intro = w.HTML(html.escape(
        f"This machine: {human_size(budget.total_bytes)} of memory, {human_size(budget.available_bytes)} free. "
        f"Memory needed is at a context of up to {session.settings.n_ctx} tokens."))
    rows = [intro]
    for offer in offers:
        done = is_pulled(offer, builds)
        actions = w.Box([])
        if not done:
            button = w.Button(description="Download", icon="download", tooltip=offer.pull_command,
                              layout=w.Layout(width="9em"))
            button.on_click(_downloader(session, offer.entry.name, actions))
            actions.children = (button,)
        rows.append(w.HBox([w.HTML(_entry_html(offer, done), layout=w.Layout(width="36em")), actions]))
    section = w.VBox(rows)
    section.add_class("tinyai-catalog")
    return section


def _downloader(session, name: str, actions):
    def on_click(_button) -> None:
        view = PullView(session, name)
        actions.children = (view.widget,)
        view.start()

    return on_click


def show_catalog(session, args) -> None:
    """``%tinyai catalog``: the catalog with fit badges and Download buttons."""
    if args:
        raise MessageError("write %tinyai catalog (no arguments).", "usage")
    section = catalog_section(session)
    if section is None:
        raise MessageError("the catalog needs ipywidgets (pip install ipywidgets); in a terminal use "
                           "`jupyter tinyai models --recommend`.", "usage")
    from IPython.display import display

    display(section)
