"""Types every part of jupyter_tinyai shares, with no heavy imports.

:class:`Client` is the API through which every front end (magics, the Jupyter server, the
CLI, ``jupyter_tinyai.ask``) reaches a model: ``Engine`` provides it in this process,
``HostClient`` through the background host. Both follow one rule for which model a request
gets (:mod:`jupyter_tinyai.choice`)::

    def answer(client: Client, prompt: str) -> str:
        return client.ask(prompt, conversation="notes")[0]
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Optional, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from .backends.base import Chunk, Message, ProgressCallback, Stats
    from .config import TinyAI
    from .models import ModelSpec
    from .prompts import ContextPiece


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
        model: Optional[str] = None,
        system: Optional[str] = None,
        context: Iterable[ContextPiece] = (),
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        seed: Optional[int] = None,
        cancel: Optional[threading.Event] = None,
        progress: Optional[ProgressCallback] = None,
    ) -> Iterator[Chunk]:
        """Stream the answer to ``prompt`` as the next turn of ``conversation``; the last
        chunk carries the stats."""

    def ask(self, prompt: str, **kwargs) -> tuple[str, Optional[Stats]]:
        """The whole answer at once: (text, stats)."""

    def cancel(self) -> bool:
        """Stop this client's answer in progress; False when there is none."""

    def load(self, model: Optional[str] = None, progress: Optional[ProgressCallback] = None) -> ModelSpec:
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
