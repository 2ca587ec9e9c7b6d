"""What the magics remember in one kernel: settings, client, conversation, errors."""

from __future__ import annotations

import traceback
import uuid

from ..context import ErrorRecord, History


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _plain_traceback(error: BaseException) -> str:
    """The traceback of a cell's exception without IPython's own frames."""
    frames = [
        f for f in traceback.extract_tb(error.__traceback__)
        if "IPython/core/interactiveshell.py" not in f.filename.replace("\\", "/")
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "Traceback (most recent call last):\n" + "".join(lines)


class Session:
    """Per-kernel state. The client is made on first use (``%load_ext`` stays fast)."""

    def __init__(self, shell):
        from ..config import load_settings

        self.shell = shell
        # registered with the shell so `%config TinyAI.host = 'inprocess'` reaches it
        self.settings = load_settings(shell.config)
        self.conversation = _new_id("kernel")
        self.errors: dict[int, ErrorRecord] = {}
        self.temperature: float | None = None  # chosen in the panel
        self.autoexplain = False
        self.last_prompt: str | None = None
        self.turns: dict[str, list] = {}  # this kernel's conversations as last answered, by id
        self._client = None

    @property
    def client(self):
        if self._client is None:
            from ..api import default_client

            self._client = default_client(self.settings)
        return self._client

    @property
    def model(self) -> str | None:
        """This kernel's chosen model (``%tinyai use``, the panel, ``c.TinyAI.model``)."""
        return self.settings.model or None

    @model.setter
    def model(self, name: str | None) -> None:
        self.settings.model = name or ""

    def model_for(self, option: str | None) -> str | None:
        """The model of one answer: ``-m`` for that answer only, else this kernel's chosen
        model; ``None`` (neither) is the bundled default (the rule of :mod:`..choice`)."""
        return option or self.model

    def chosen_id(self) -> str | None:
        """The id of the model an answer without ``-m`` gets (None when it cannot be found)."""
        from ..errors import TinyAIError
        from ..models import resolve

        try:
            return resolve(self.model, self.settings).id
        except TinyAIError:
            return None

    def remember(self, conversation: str) -> None:
        """Keep a copy of ``conversation``'s turns after an answer: the host holds them, and a
        new host (the old one killed, crashed, or gone after c.TinyAI.host_idle_exit) has none."""
        try:
            self.turns[conversation] = list(self.client.history(conversation))
        except Exception:  # noqa: BLE001 - the copy is a convenience: the answer is what matters
            pass

    def restore(self, conversation: str) -> None:
        """Give ``conversation``'s kept turns back to a host that lost them."""
        kept = self.turns.get(conversation)
        if kept and list(self.client.history(conversation)) != kept:
            self.client.set_history(conversation, kept)

    def forget(self, conversation: str) -> None:
        self.turns.pop(conversation, None)

    def new_conversation(self) -> str:
        self.conversation = _new_id("kernel")
        return self.conversation

    def history(self) -> History:
        ns = self.shell.user_ns
        return History(ns.get("In", []), ns.get("Out", {}), self.errors)

    def record_error(self, result) -> ErrorRecord | None:
        """``post_run_cell`` hook: remember a cell's exception for ``{Err}`` and ``%explain``."""
        error = getattr(result, "error_in_exec", None)
        if error is None or getattr(error, "_tinyai_message", False):
            return None
        count = result.execution_count or 0
        code = getattr(getattr(result, "info", None), "raw_cell", "") or ""
        summary = "".join(traceback.format_exception_only(type(error), error)).strip().splitlines()[-1]
        record = ErrorRecord(count, code, _plain_traceback(error), summary)
        self.errors[count] = record
        return record
