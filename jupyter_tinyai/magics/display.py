"""Showing an answer while it streams: Markdown updated in place in a notebook, printed
token by token in a terminal; a footer and the metadata that record what produced it."""

from __future__ import annotations

import re
import sys
import uuid

from ..errors import InternalError, TinyAIError, title

METADATA_KEY = "jupyter_tinyai"
FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


class MessageError(Exception):
    """Raised by a magic to show one line in the cell's output and no traceback: the title
    of its error ``kind`` (a key of jupyter_tinyai.errors.TITLES), then the message."""

    _tinyai_message = True

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind

    @classmethod
    def of(cls, error: BaseException) -> MessageError:
        """A TinyAIError as its kind and message; anything else (a bug) as "internal", named."""
        if isinstance(error, TinyAIError):
            return cls(str(error), error.kind)
        return cls(f"{type(error).__name__}: {error}", InternalError.kind)

    def _render_traceback_(self):
        return [f"\x1b[31m{title(self.kind).rstrip('.')}\x1b[39m: {self}"]


def code_blocks(text: str) -> str:
    """The code in an answer: its fenced blocks joined in order; without a complete block
    (small models sometimes drop the opening fence), the answer without its fence lines."""
    blocks = [body.rstrip() for _lang, body in FENCE.findall(text)]
    if blocks and any(blocks):
        return "\n\n".join(b for b in blocks if b).strip()
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("```")).strip()


def footer(stats, stopped: bool = False) -> str:
    """The figures line under an answer (:meth:`~jupyter_tinyai.types.Stats.summary`)."""
    if stats is None or not stats.model:  # no answer began (stopped while it waited): no figures
        return "stopped" if stopped or (stats is not None and stats.finish_reason == "cancelled") else ""
    return stats.summary(stopped)


def metadata(stats, spec: dict | None, params: dict, conversation: str, notice: str | None, stopped: bool) -> dict:
    """What a saved notebook records about an answer."""
    data = {
        "model": (spec or {}).get("id") or (stats.model if stats else None),
        "backend": (spec or {}).get("backend") or (stats.backend if stats else None),
        "quantization": (spec or {}).get("quantization") or None,
        "params": params,
        "seed": params.get("seed"),
        "conversation": conversation,
        "stopped": stopped,
    }
    if stats is not None:
        data.update(
            prompt_tokens=stats.prompt_tokens,
            cached_tokens=stats.cached_tokens,
            generated_tokens=stats.generated_tokens,
            ttft_s=round(stats.ttft_s, 4),
            tokens_per_s=round(stats.tokens_per_s, 2),
            total_s=round(stats.total_s, 3),
            finish_reason=stats.finish_reason,
            placement=stats.placement or None,
        )
    if notice:
        data["notice"] = notice
    return {METADATA_KEY: data}


class NotebookAnswer:
    """One answer in a notebook output, updated in place through a display id."""

    def __init__(self, fmt: str = "markdown", title: str | None = None):
        self.fmt = fmt
        self.title = title  # an explanation's header; "Thinking…" until its first words
        self.display_id = f"tinyai-{uuid.uuid4().hex}"
        self.progress_id = self.display_id + "-progress"
        self.notice: str | None = None
        self.hint: dict | None = None  # the tiny-model hint, under the first answer of a session
        self.reasoning = ""  # the model's thinking before the answer: shown folded
        self._shown_progress = False
        self.updates = 0
        self.alone = False  # set when the cell is this answer only (see tidy.py)

    def _bundle(self, text: str, foot: str = "", cursor: bool = False) -> dict:
        body = text + (" ▌" if cursor else "")
        if self.fmt == "code":
            code = code_blocks(text)
            body = f"```python\n{code}\n```" if code else body
        notice = f"> {self.notice}\n\n" if self.notice else ""
        plain = (f"{self.notice}\n\n" if self.notice else "") + body + (f"\n\n{foot}" if foot else "")
        if self.hint:
            plain += f"\n{self.hint['text']} {self.hint['command']}"
        if self.fmt == "text":
            import html

            thinking = (f'<details class="tinyai-reasoning"><summary>Thinking…</summary><pre>{html.escape(self.reasoning)}'
                        "</pre></details>") if self.reasoning else ""
            markup = f"{thinking}<pre>{html.escape(plain)}</pre>"
            return {"text/html": markup, "text/plain": plain}
        from .safe_markdown import escape_html, safe_markdown

        if self.reasoning:  # folded above the answer, made safe as the answer is
            notice += (f'<details class="tinyai-reasoning"><summary>Thinking…</summary>\n\n'
                       f"{safe_markdown(self.reasoning)}\n\n</details>\n\n")

        sub = f"\n\n<sub>{escape_html(foot)}</sub>" if foot else ""
        if self.hint:
            sub += (f"\n\n<sub class=\"tinyai-hint\">{escape_html(self.hint['text'])} "
                    f"<code>{escape_html(self.hint['command'])}</code></sub>")
        head = f"**{escape_html(self.title)}**\n\n" if self.title else ""
        if text or not self.title:
            shown = safe_markdown(body) or ("" if self.reasoning and not text else "…")
        else:  # an explanation before its first words
            shown = "" if self.reasoning else "_Thinking…_"
        markdown = head + notice + shown + sub
        return {"text/markdown": markdown, "text/plain": plain}

    def start(self) -> None:
        from IPython.display import display

        display(self._bundle("", cursor=True), raw=True, display_id=self.display_id)

    def update(self, text: str) -> None:
        from IPython.display import update_display

        update_display(self._bundle(text, cursor=True), raw=True, display_id=self.display_id)
        self.updates += 1

    def progress(self, fraction: float, message: str) -> None:
        from IPython.display import display, update_display

        bar = f'<progress value="{fraction:.2f}" max="1" style="width: 20em"></progress> {message}'
        bundle = {"text/html": bar, "text/plain": f"{message} {fraction * 100:.0f}%"}
        if self._shown_progress:
            update_display(bundle, raw=True, display_id=self.progress_id)
        else:
            display(bundle, raw=True, display_id=self.progress_id)
            self._shown_progress = True

    def end_progress(self) -> None:
        if self._shown_progress:
            from IPython.display import update_display

            update_display({"text/plain": ""}, raw=True, display_id=self.progress_id)

    def clear(self) -> None:
        from IPython.display import clear_output, update_display

        if self.alone:  # the error message that follows replaces the cell's outputs
            clear_output(wait=True)
            return
        self.end_progress()
        update_display({"text/plain": ""}, raw=True, display_id=self.display_id)

    def finish(self, text: str, foot: str, meta: dict) -> None:
        from IPython.display import clear_output, display, update_display

        if self.alone:  # the answer alone: no empty outputs where the Stop button and progress were
            clear_output(wait=True)
            display(self._bundle(text, foot), raw=True, metadata=meta, display_id=self.display_id)
            return
        self.end_progress()
        update_display(self._bundle(text, foot), raw=True, metadata=meta, display_id=self.display_id)


class TerminalAnswer:
    """An answer printed token by token (the IPython terminal, scripts)."""

    def __init__(self, fmt: str = "markdown", stream=None):
        from ..progress import ProgressLine

        self.fmt = fmt
        self.stream = stream or sys.stdout
        self.notice: str | None = None
        self.hint: dict | None = None
        self.reasoning = ""  # not printed: a terminal cannot fold it; one line says it is there
        self._said_thinking = False
        self._printed = 0
        self._progress = ProgressLine(self.stream, delay=0)  # Generation shows only slow loads
        self.updates = 0

    def start(self) -> None:
        pass

    def update(self, text: str) -> None:
        self.end_progress()
        if self.reasoning and not self._said_thinking:
            self.stream.write("[thinking…]\n")
            self._said_thinking = True
        if self.notice and self._printed == 0:
            self.stream.write(f"[{self.notice}]\n")
        self.stream.write(text[self._printed:])
        self.stream.flush()
        self._printed = len(text)
        self.updates += 1

    def progress(self, fraction: float, message: str) -> None:
        self._progress(fraction, message)

    def end_progress(self) -> None:
        self._progress.end()

    def clear(self) -> None:
        self.end_progress()

    def finish(self, text: str, foot: str, meta: dict) -> None:
        self.update(text)
        self.stream.write(f"\n\n[{foot}]\n" if foot else "\n")
        if self.hint:
            self.stream.write(f"[{self.hint['text']} {self.hint['command']}]\n")
        self.stream.flush()


def answer_view(shell, fmt: str, title: str | None = None):
    """A notebook view when a frontend renders rich output, else a terminal view."""
    if getattr(shell, "kernel", None) is not None:
        return NotebookAnswer(fmt, title)
    return TerminalAnswer(fmt)
