"""ipywidgets: the Stop button under a streaming answer, the "Explain this error" offer
(its panel is in :mod:`.explainpanel`), and the ``%tinyai`` panel. ipywidgets is imported
only when one of them is shown."""

from __future__ import annotations

import threading
import uuid


def _widgets():
    try:
        import ipywidgets
    except ImportError:  # the magics still work, without buttons
        return None
    return ipywidgets


class StopButton:
    """A Stop button shown while an answer streams; removed from the output when it ends."""

    def __init__(self, generation):
        self.generation = generation
        self.display_id = f"tinyai-stop-{uuid.uuid4().hex}"
        self.button = None

    def show(self) -> None:
        w = _widgets()
        if w is None:
            return
        from IPython.display import display

        self.button = w.Button(description="Stop", icon="stop", tooltip="Stop this answer (the text so far is kept)")
        self.button.layout.width = "6em"
        self.button.on_click(lambda _button: self.generation.stop())
        display(self.button, display_id=self.display_id)

    def remove(self) -> None:
        if self.button is None:
            return
        from IPython.display import update_display

        update_display({"text/plain": ""}, raw=True, display_id=self.display_id)
        self.button.close()
        self.button = None


def offer_explanation(session, record) -> None:
    """Under a traceback: an "Explain this error" button that opens an explanation panel
    there (:class:`.explainpanel.ExplainPanel`); dismissing it brings the button back."""
    w = _widgets()
    if w is None:
        return
    from IPython.display import display

    from .explain import error_prompt
    from .explainpanel import ExplainPanel

    button = w.Button(description="Explain this error", icon="question", tooltip=record.summary)
    box = w.VBox([button])

    def dismissed() -> None:
        box.children = (button,)
        button.disabled = False

    def on_click(_button) -> None:
        if len(box.children) > 1:
            return
        button.disabled = True  # one explanation at a time; Dismiss brings the button back
        explanation = ExplainPanel(session, w, "Explanation of this error",
                                   error_prompt(record, session.settings.context_piece_chars), on_dismiss=dismissed)
        explanation.offer = button
        box.children = (button, explanation.box)
        session.explanation = explanation  # the last one opened
        explanation.start()

    button.on_click(on_click)
    display(box)


def panel(session) -> None:
    """Show the ``%tinyai`` panel (see :class:`Panel`); plain text without ipywidgets."""
    w = _widgets()
    from IPython.display import display

    if w is None:
        client = session.client
        ids = [spec.id for spec in client.list_models() if not spec.warning]
        display({"text/plain": f"models: {', '.join(ids)}\nin use: {session.chosen_id()}"}, raw=True)
        return
    session.panel = Panel(session, w)
    display(session.panel.box)


#: the labels' width: "Temperature" and "Max tokens" in full, the controls aligned
LABELS = {"description_width": "6.5em"}


class Panel:
    """The ``%tinyai`` panel: the model (the host's: a pick here loads it for every front
    end), temperature, max tokens, and one status line following the host's model live
    ("Loading X…", name · placement · speed). ``catalog`` is an empty box for the model
    catalog (filled by its own module)."""

    def __init__(self, session, w):
        import html

        self.session, self._html = session, html
        settings = session.settings
        row = w.Layout(width="100%", max_width="34em")
        self.title = w.HTML("<b>TinyAI</b> <span style='opacity:0.7'>· local model</span>")
        self.picker = w.Dropdown(options=[], description="Model", style=LABELS, layout=row)
        self.temperature = w.FloatSlider(
            value=session.temperature if session.temperature is not None else settings.temperature,
            min=0.0, max=2.0, step=0.05, readout_format=".2f", description="Temperature", style=LABELS, layout=row,
        )
        self.max_tokens = w.BoundedIntText(
            value=session.max_tokens or settings.max_tokens, min=1, max=32768, step=64,
            description="Max tokens", style=LABELS, layout=w.Layout(width="14em"),
        )
        self.status = w.HTML(layout=w.Layout(width="100%", max_width="34em"))
        self.catalog = w.VBox(layout=w.Layout(width="100%"))  # the model catalog goes here
        self.box = w.VBox(
            [self.title, self.picker, self.temperature, self.max_tokens, self.status, self.catalog],
            layout=w.Layout(width="100%", max_width="36em", padding="6px 8px", border="1px solid #8884",
                            grid_gap="2px"),
        )
        self._following = False  # set while the host's state moves the picker (not a pick)
        self._list_models()
        self.picker.observe(self._on_pick, names="value")
        self.temperature.observe(lambda change: setattr(session, "temperature", change["new"]), names="value")
        self.max_tokens.observe(lambda change: setattr(session, "max_tokens", change["new"]), names="value")
        follower = session.follower
        state = follower.latest
        self.show_state(state if state is not None else self._state_from_status())
        follower.listen(self.show_state)

    def _list_models(self) -> None:
        specs = [spec for spec in self.session.client.list_models() if not spec.warning]
        self._following = True
        try:
            current = self.picker.value
            self.picker.options = [(spec.name or spec.id, spec.id) for spec in specs]
            ids = [spec.id for spec in specs]
            self.picker.value = current if current in ids else (self.session.chosen_id() if self.session.chosen_id() in ids else None)
        finally:
            self._following = False

    def _state_from_status(self) -> dict:
        """A snapshot from the client's status, before the first one is pushed."""
        from ..models import ModelSpec
        from ..modelstate import brief, initial

        status = self.session.client.status()
        snap = initial()
        if status.get("model"):
            snap.update(state="loaded", model=brief(ModelSpec.from_dict(status["model"])), placement=status.get("placement"),
                        last=status.get("last"))
        return snap

    def show_state(self, snap: dict) -> None:
        """The host's model (a :mod:`jupyter_tinyai.modelstate` snapshot): the picker shows
        it, the status line says what it does."""
        from ..status import state_line

        current = (snap.get("loading") or snap.get("model") or {}).get("id")
        if current and current not in [value for _, value in self.picker.options]:
            self._list_models()  # a model added elsewhere
        if current and current in [value for _, value in self.picker.options] and self.picker.value != current:
            self._following = True
            try:
                self.picker.value = current
            finally:
                self._following = False
        text = self._html.escape(state_line(snap))
        color = "var(--jp-error-color1, #c00)" if snap.get("event") == "failed" else "var(--jp-ui-font-color2, #666)"
        self.status.value = (f"<div title='{text}' style='white-space:nowrap;overflow:hidden;text-overflow:ellipsis;"
                             f"color:{color};font-size:0.9em'>{text}</div>")

    def _on_pick(self, change) -> None:
        """The user picked a model: load it in the host (every front end follows)."""
        if self._following or not change["new"]:
            return
        session, model = self.session, change["new"]
        session.model = model

        def load():
            try:
                session.client.load(model)
            except Exception as error:  # noqa: BLE001 - said on the status line, not lost in a thread
                self.show_state({"event": "failed", "error": f"{model}: {error}"})

        threading.Thread(target=load, name="tinyai-panel-load", daemon=True).start()
