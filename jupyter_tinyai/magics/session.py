"""What the magics remember in one kernel: settings, client, conversation, errors."""

from __future__ import annotations

import os
import traceback
import uuid

from IPython.core.error import UsageError

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
        self.max_tokens: int | None = None  # chosen in the panel
        self.panel = None  # the last %tinyai panel shown
        self.explanation = None  # the last "Explain this error" panel opened
        self.autoexplain = False
        self.last_prompt: str | None = None
        self.turns: dict[str, list] = {}  # this kernel's conversations as last answered, by id
        self.hinted = False  # the tiny-model hint was considered (under this kernel's first answer)
        self._client = None
        self._follower = None
        self._seen_pick: str | None = None

    @property
    def follower(self):
        """The host's model, followed (see :mod:`.follow`): a pick elsewhere becomes this
        kernel's model."""
        if self._follower is None:
            from .follow import HostFollower

            self._follower = HostFollower(lambda: self.client)
            self._follower.listen(self._adopt_pick)
        return self._follower

    def _adopt_pick(self, snap: dict) -> None:
        """A model picked in any front end is the one this kernel's answers get."""
        picked = snap.get("picked")
        if picked and picked != self._seen_pick:
            self._seen_pick = picked
            model = snap.get("model") or {}
            path = model.get("path") or ""
            # a file by its path (what `%tinyai use PATH` keeps): an id may name another copy
            local = model.get("id") == picked and model.get("backend") != "remote" and os.path.exists(path)
            self.model = path if local else picked

    @property
    def client(self):
        if self._client is None:
            from ..api import default_client

            self._client = default_client(self.settings)
            self.follower.start()
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

    def first_answer_hint(self, stats) -> dict | None:
        """The tiny-model hint for this kernel's first answer (while only the bundled model is
        present), None for every later one."""
        if self.hinted or stats is None:
            return None
        self.hinted = True
        from ..models.hint import tiny_model_hint

        try:
            return tiny_model_hint(self.settings, answered_by=stats.model)
        except Exception:  # noqa: BLE001 - a hint never spoils an answer
            return None

    def new_conversation(self) -> str:
        self.conversation = _new_id("kernel")
        return self.conversation

    def history(self) -> History:
        ns = self.shell.user_ns
        return History(ns.get("In", []), ns.get("Out", {}), self.errors)

    def record_error(self, result) -> ErrorRecord | None:
        """``post_run_cell`` hook: remember a cell's exception for ``{Err}`` and ``%explain``."""
        error = getattr(result, "error_in_exec", None)
        if error is None or getattr(error, "_tinyai_message", False) or isinstance(error, UsageError):
            return None  # a magic's own usage error (ours or IPython's) is not the code's error
        count = result.execution_count or 0
        code = getattr(getattr(result, "info", None), "raw_cell", "") or ""
        summary = "".join(traceback.format_exception_only(type(error), error)).strip().splitlines()[-1]
        record = ErrorRecord(count, code, _plain_traceback(error), summary)
        self.errors[count] = record
        return record
