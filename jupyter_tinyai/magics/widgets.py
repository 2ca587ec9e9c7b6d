"""ipywidgets: the Stop button under a streaming answer, the "Explain this error" offer,
and the ``%tinyai`` panel. ipywidgets is imported only when one of them is shown."""

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


def offer_explanation(explain_error, record) -> None:
    """Under a traceback: an "Explain this error" button that streams the explanation there."""
    w = _widgets()
    if w is None:
        return
    from IPython.display import display

    button = w.Button(description="Explain this error", icon="question", tooltip=record.summary)
    out = w.Output()
    lock = threading.Lock()

    def show(markdown: str, plain: str) -> None:
        out.outputs = ({"output_type": "display_data", "data": {"text/markdown": markdown, "text/plain": plain}, "metadata": {}},)

    def on_click(_button) -> None:
        if not lock.acquire(blocking=False):
            return
        button.disabled = True

        def work():
            try:
                explain_error(record, show)
            finally:
                lock.release()

        threading.Thread(target=work, name="tinyai-autoexplain", daemon=True).start()

    button.on_click(on_click)
    display(w.VBox([button, out]))


def panel(session) -> None:
    """Model picker, temperature slider and status of the loaded model."""
    w = _widgets()
    from IPython.display import display

    client = session.client
    ids = [spec.id for spec in client.list_models() if not spec.warning]
    status = client.status()
    current = session.chosen_id()
    if w is None:
        display({"text/plain": f"models: {', '.join(ids)}\nin use: {current}"}, raw=True)
        return
    picker = w.Dropdown(options=ids, value=current if current in ids else None, description="Model")
    temperature = w.FloatSlider(
        value=session.temperature if session.temperature is not None else session.settings.temperature,
        min=0.0, max=2.0, step=0.05, description="Temperature",
    )
    info = w.HTML(_status_html(status))
    refresh = w.Button(description="Refresh", icon="refresh")

    def on_model(change) -> None:
        session.model = change["new"]

    def on_temperature(change) -> None:
        session.temperature = change["new"]

    picker.observe(on_model, names="value")
    temperature.observe(on_temperature, names="value")
    refresh.on_click(lambda _b: setattr(info, "value", _status_html(client.status())))
    display(w.VBox([picker, temperature, w.HBox([info, refresh])]))


def _status_html(status: dict) -> str:
    import html

    from ..status import status_line

    return html.escape(status_line(status))
