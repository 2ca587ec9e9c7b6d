"""The explanation panel of a notebook (``autoexplain``'s "Explain this error"), designed
like the labextension's inline explanation: a header with its title, the model, Stop while
it streams, Continue when the token limit cut it, Dismiss; "Thinking…" until the first
words; the figures line under it. An answer cut by the token limit is shown up to its last
complete sentence, never mid-sentence.

    panel = ExplainPanel(session, ipywidgets, "Explanation of this error", prompt)
    display(panel.box); panel.start()
"""

from __future__ import annotations

import html
import re
import threading
import time

from .session import _new_id

THINKING = "_Thinking…_"
RENDER_EVERY_S = 0.1
#: the end of a sentence (its closing quote or bracket included) or of a paragraph
SENTENCE_END = re.compile(r"[.!?:][\"')\]*_`]*(?=\s|$)|\n\s*\n")
CONTINUE_PROMPT = "Continue your explanation exactly where it stopped."


def to_sentence_end(text: str) -> str:
    """``text`` up to the end of its last complete sentence (or paragraph): what is shown
    of an answer the token limit cut; all of it when it has no complete sentence. A code
    block left open is closed."""
    ends = [m.end() for m in SENTENCE_END.finditer(text)]
    cut = text[: ends[-1]].rstrip() if ends else text.rstrip()
    if cut.count("```") % 2:
        cut += "\n```"
    return cut


class ExplainPanel:
    """One explanation streamed into ipywidgets (``box``), in a worker thread."""

    def __init__(self, session, w, title: str, prompt: str, on_dismiss=None):
        self.session, self.prompt, self.on_dismiss = session, prompt, on_dismiss
        self.conversation = _new_id("explain")
        self.text = ""  # the whole answer so far (continuations appended)
        self.stats = None
        self.cut = False  # the last part ended at the token limit
        self._cancel = threading.Event()
        self._busy = threading.Lock()
        def button():
            return w.Layout(width="auto")  # one each: a layout shared would hide them all at once

        self.title = w.HTML(f"<b>{html.escape(title)}</b>")
        self.model = w.HTML("", layout=w.Layout(flex="1 1 auto", margin="0 0 0 8px"))
        self.stop = w.Button(description="Stop", icon="stop", tooltip="Stop the explanation (the text so far is kept)",
                             layout=button())
        self.more = w.Button(description="Continue", icon="forward",
                             tooltip="The explanation reached the token limit: continue it", layout=button())
        self.dismiss = w.Button(description="Dismiss", icon="times", tooltip="Remove this explanation", layout=button())
        self.stop.on_click(lambda _b: self._cancel.set())
        self.more.on_click(lambda _b: self.start(CONTINUE_PROMPT))
        self.dismiss.on_click(lambda _b: self.close())
        self.body = w.Output()
        self.footer = w.HTML("")
        header = w.HBox([self.title, self.model, self.stop, self.more, self.dismiss],
                        layout=w.Layout(align_items="center", width="100%"))
        self.box = w.VBox([header, self.body, self.footer], layout=w.Layout(
            width="100%", max_width="52em", padding="4px 10px", margin="4px 0",
            border="1px solid var(--jp-border-color2, #ccc)"))
        self.box.add_class("tinyai-explain-panel")
        self._buttons(streaming=False)

    def start(self, prompt: str | None = None) -> bool:
        """Explain (or, with ``prompt``, continue) in a worker thread; False while busy."""
        if not self._busy.acquire(blocking=False):
            return False
        self._cancel.clear()
        self._buttons(streaming=True)
        threading.Thread(target=self._run, args=(prompt or self.prompt,), name="tinyai-explain", daemon=True).start()
        return True

    def close(self) -> None:
        """Dismiss: stop, forget the conversation, remove the panel."""
        self._cancel.set()
        self._forget()
        self.box.close()
        if self.on_dismiss is not None:
            self.on_dismiss()

    # -- worker thread -------------------------------------------------------------------

    def _run(self, prompt: str) -> None:
        from ..errors import TinyAIError, title
        from .display import footer

        session, before, last = self.session, self.text, 0.0
        stopped, joined = False, False
        try:
            self._show(before + " ▌" if before else THINKING)
            for chunk in session.client.chat(prompt, conversation=self.conversation, model=session.model,
                                             temperature=session.temperature, max_tokens=session.max_tokens,
                                             cancel=self._cancel):
                if chunk.model:
                    self.model.value = f"<span style='opacity:0.7'>{html.escape(chunk.model.split(':', 1)[-1])}</span>"
                if chunk.text:
                    if before and not joined and not chunk.text[:1].isspace():
                        self.text += " "  # a continuation joins the text so far
                    joined = True
                    self.text += chunk.text
                if chunk.stats is not None:
                    self.stats = chunk.stats
                if time.monotonic() - last > RENDER_EVERY_S and self.text != before:
                    last = time.monotonic()
                    self._show(self.text + " ▌")
            stopped = self._cancel.is_set() or (self.stats is not None and self.stats.finish_reason == "cancelled")
            self.cut = self.stats is not None and self.stats.finish_reason == "length"
            self._show(to_sentence_end(self.text) if self.cut else self.text)
            figures = footer(self.stats, stopped)
            if self.cut:
                figures += " · Continue for more"
            self.footer.value = f"<sub style='opacity:0.75'>{html.escape(figures)}</sub>"
        except Exception as error:  # noqa: BLE001 - said in the panel, not lost in a thread
            kind = error.kind if isinstance(error, TinyAIError) else "internal"
            shown = title(kind).rstrip(".")
            detail = str(error) if isinstance(error, TinyAIError) else f"{type(error).__name__}: {error}"
            self._show(f"**{html.escape(shown)}** {html.escape(detail)}", f"{shown} {detail}")
        finally:
            self._buttons(streaming=False)
            if not self.cut:
                self._forget()  # complete: nothing to continue
            self._busy.release()

    def _show(self, markdown: str, plain: str | None = None) -> None:
        from .safe_markdown import safe_markdown

        self.body.outputs = ({"output_type": "display_data", "metadata": {},
                              "data": {"text/markdown": safe_markdown(markdown) or THINKING,
                                       "text/plain": plain if plain is not None else markdown}},)

    def _buttons(self, streaming: bool) -> None:
        self.stop.layout.display = None if streaming else "none"
        self.more.layout.display = "none" if streaming or not self.cut else None

    def _forget(self) -> None:
        try:
            self.session.client.reset(self.conversation)
        except Exception:  # noqa: BLE001 - the host went away: nothing to forget
            pass
