"""Types every part of jupyter_tinyai shares, with no heavy imports: messages, generation
parameters, streamed chunks and their figures, notebook context pieces, and the client API.

:class:`Client` is the API through which every front end (magics, the Jupyter server, the
CLI, ``jupyter_tinyai.ask``) reaches a model: ``Engine`` provides it in this process,
``HostClient`` through the background host. Both follow one rule for which model a request
gets (:mod:`jupyter_tinyai.choice`)::

    def answer(client: Client, prompt: str) -> str:
        return client.ask(prompt, conversation="notes")[0]
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from .config import TinyAI
    from .models import ModelSpec


@dataclass
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str

    def to_dict(self) -> dict:
        return {"role": self.role, "content": self.content}


@dataclass
class GenerationParams:
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = None
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    thinking: bool = True  # the chat template's enable_thinking (c.TinyAI.thinking)
    #: speculative decoding for this request: "" none, "prompt_lookup" n-gram drafts from the
    #: prompt (edits, which copy most of their input). A backend that cannot do it decodes plainly.
    draft: str = ""
    #: only where it pays and keeps greedy text identical to plain decoding (else decode plainly)
    draft_exact: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Stats:
    """Figures of one generation; carried by the last chunk of a stream."""

    model: str = ""
    backend: str = ""
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens whose KV cache was reused
    generated_tokens: int = 0
    ttft_s: float = 0.0  # request to first token
    tokens_per_s: float = 0.0  # decode speed, after the first token
    total_s: float = 0.0
    finish_reason: str = "stop"  # stop | length | cancelled | error
    adapter: str = ""  # the LoRA adapter applied to the model, if any
    placement: str = ""  # where the model runs: "Metal, 30/30 layers", "CPU, 7 threads" (placement_text)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Stats:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def summary(self, stopped: bool = False) -> str:
        """The figures line of every front end (the CLI's stderr, the magics' footer, the
        status's last answer): ``model · prompt + generated tokens · first token N ms ·
        tokens/s``, then the adapter and how the answer ended when it was not a full stop."""
        parts = [
            self.model,
            f"{self.prompt_tokens} prompt + {self.generated_tokens} tokens",
            f"first token {self.ttft_s * 1000:.0f} ms",
            f"{self.tokens_per_s:.1f} tokens/s",
        ]
        if self.adapter:
            parts.append(f"adapter {os.path.basename(os.path.normpath(self.adapter))}")
        ending = "cancelled" if stopped else self.finish_reason
        if ending != "stop":
            parts.append(ENDINGS.get(ending, ending))
        return " · ".join(parts)


#: how an answer ended, as the figures line says it (a full stop says nothing)
ENDINGS = {"cancelled": "stopped", "length": "cut at --max-tokens", "error": "broke off",
           "time": "cut at the time budget", "cached": "from recent completions"}


@dataclass
class Chunk:
    """One piece of a streamed answer.

    ``text`` is a delta of the answer; ``reasoning`` a delta of the model's reasoning before
    it (a ``<think>`` block: shown folded, never sent back to the model); ``notice`` is a one-line message about the answer
    (e.g. that context was trimmed) shown apart from it; ``stats`` is set on the last chunk.
    While the request waits for the model, chunks carry ``queued``, the number of requests
    ahead of it (and a notice saying so); ``model`` is set on the chunk that begins the
    answer, once the request's turn has come and its model is loaded: the model's id.
    """

    text: str = ""
    notice: str | None = None
    stats: Stats | None = None
    queued: int | None = None
    model: str | None = None
    reasoning: str = ""

    def to_dict(self) -> dict:
        data: dict = {}
        if self.text:
            data["text"] = self.text
        if self.reasoning:
            data["reasoning"] = self.reasoning
        if self.notice:
            data["notice"] = self.notice
        if self.stats is not None:
            data["stats"] = self.stats.to_dict()
        if self.queued is not None:
            data["queued"] = self.queued
        if self.model is not None:
            data["model"] = self.model
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Chunk:
        stats = data.get("stats")
        return cls(
            text=data.get("text", ""),
            notice=data.get("notice"),
            stats=Stats.from_dict(stats) if stats else None,
            queued=data.get("queued"),
            model=data.get("model"),
            reasoning=data.get("reasoning", ""),
        )


@dataclass
class ContextPiece:
    """Something from the notebook sent with a prompt: a variable, a cell, a traceback."""

    label: str  # "df (pandas DataFrame)", "In[3]", "last error"
    text: str

    def render(self) -> str:
        return f"{self.label}:\n```\n{self.text}\n```"

    def to_dict(self) -> dict:
        return {"label": self.label, "text": self.text}


def collect(chunks) -> tuple[str, Stats | None]:
    """The whole answer of a stream of chunks: (text, stats of the last chunk)."""
    parts, stats = [], None
    for chunk in chunks:
        parts.append(chunk.text)
        stats = chunk.stats or stats
    return "".join(parts), stats


ProgressCallback = Callable[[float, str], None]  # fraction 0..1, what is happening




@runtime_checkable
class Client(Protocol):
    """A model client. A request that names no ``model`` gets the model chosen for this
    client (``settings.model``: ``c.TinyAI.model``, ``%tinyai use``), else the bundled
    default — never a model another client left loaded; a request that names one gets it
    for that request only. The adapter and the load settings are always ``settings``'."""

    #: this client's settings: its chosen model, adapter and load settings
    settings: TinyAI

    def chat(
        self,
        prompt: str,
        *,
        conversation: str = "default",
        model: str | None = None,
        system: str | None = None,
        context: Iterable[ContextPiece] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Chunk]:
        """Stream the answer to ``prompt`` as the next turn of ``conversation``; the last
        chunk carries the stats."""

    def ask(self, prompt: str, **kwargs) -> tuple[str, Stats | None]:
        """The whole answer at once: (text, stats)."""

    def complete(
        self,
        prefix: str,
        suffix: str = "",
        *,
        extra: Iterable[ContextPiece] = (),
        model: str | None = None,
        language: str = "python",
        max_tokens: int | None = None,
        max_lines: int | None = None,
        time_budget: float | None = None,
        session: str = "default",
        cancel: threading.Event | None = None,
    ) -> Iterator[Chunk]:
        """Stream the code to insert between ``prefix`` and ``suffix`` (``c.TinyAI.completion_*``
        settings), never behind a chat answer; a new request of the same ``session`` ends this one."""

    def edit(self, code: str, *, instruction: str | None = None, error: str | None = None,
             selection: tuple[int, int] | None = None, **kwargs):
        """A proposed rewrite of the cell ``code`` (a :class:`~jupyter_tinyai.edits.EditStream`:
        the answer's chunks, then its ``result``)."""

    def cancel(self) -> bool:
        """Stop this client's answer in progress; False when there is none."""

    def load(self, model: str | None = None, progress: ProgressCallback | None = None) -> ModelSpec:
        """Load the model a request naming ``model`` gets; its description."""

    def unload(self) -> None:
        """Free the loaded model's memory."""

    def list_models(self) -> list[ModelSpec]:
        """Every model found on this machine and on configured remotes."""

    def status(self) -> dict:
        """What is loaded, its memory, the last answer's figures."""

    def history(self, conversation: str = "default") -> list[Message]:
        """``conversation``'s turns, as sent to the model."""

    def set_history(self, conversation: str, messages: list[Message]) -> None:
        """Replace ``conversation``'s turns (e.g. with a chat saved before a restart)."""

    def reset(self, conversation: str = "default") -> None:
        """Forget ``conversation``."""

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for the model a request naming no model gets."""
