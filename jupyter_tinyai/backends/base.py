"""The backend protocol: what every way of running a model provides.

A backend is a small class with a class-level ``name`` and one generator, like
``llm.Model.execute``. The engine owns exactly one loaded backend at a time. The shared data
types (Message, Chunk, Stats, GenerationParams) live in :mod:`jupyter_tinyai.types`.

    backend = LlamaCppBackend(spec, settings)
    backend.load()
    for chunk in backend.stream(messages, params, cancel):
        print(chunk.text, end="")
    chunk.stats  # on the last chunk
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ..types import Chunk, GenerationParams, Message, ProgressCallback, Stats


def placement_text(device: str, *, layers: int | None = None, of: int | None = None, threads: int | None = None) -> str:
    """Where a model runs, in the words every front end shows: "Metal, 30/30 layers",
    "CUDA 0, 20/32 layers", "CPU, 7 threads", "MLX (Metal)", "remote lab"."""
    if layers is not None and of:
        return f"{device}, {layers}/{of} layers"
    if threads:
        return f"{device}, {threads} thread{'s' if threads != 1 else ''}"
    return device


@dataclass
class LoadSettings:
    n_ctx: int = 8192  # cap on the context window; the model's own may be smaller
    threads: int = 0  # 0: choose for this machine
    adapter: str | None = None
    gpu_layers: int = -1  # llama.cpp: -1 as many as fit the GPU, 0 none, N
    flash_attention: str = "auto"  # llama.cpp: auto | on | off
    kv_cache_type: str = "f16"  # llama.cpp: f16 | q8_0 | q4_0


class Backend(ABC):
    """One way of running a model. Subclasses set ``name`` and the abstract methods."""

    #: registry name, the prefix of model ids ("llamacpp:...")
    name: ClassVar[str] = ""

    def __init__(self, spec, settings: LoadSettings):
        self.spec = spec  # models.ModelSpec
        self.settings = settings

    @abstractmethod
    def load(self, progress: ProgressCallback | None = None) -> None:
        """Load the model; raise a TinyAIError the user can act on."""

    @abstractmethod
    def unload(self) -> None:
        """Free the model's memory."""

    @property
    @abstractmethod
    def n_ctx(self) -> int:
        """The context window in effect, in tokens."""

    @abstractmethod
    def count_tokens(self, messages: list[Message]) -> int:
        """Tokens of ``messages`` as rendered for generation (with the chat template)."""

    @abstractmethod
    def stream(
        self,
        messages: list[Message],
        params: GenerationParams,
        cancel: threading.Event,
    ) -> Iterator[Chunk]:
        """Generate an answer to ``messages``; the last chunk carries ``stats``.

        When ``cancel`` is set, stop before the next token, keep what was generated and
        finish with ``stats.finish_reason == "cancelled"``.
        """

    def estimate_bytes(self) -> int:
        """Memory the model will need once loaded, estimated before loading it."""
        return self.spec.size_bytes

    def memory_detail(self) -> str:
        """What :meth:`estimate_bytes` is made of, for a refusal message."""
        from ..units import human_size

        return f"{human_size(self.spec.size_bytes)} of weights plus its context"

    def placement(self) -> str:
        """Where the loaded model runs (:func:`placement_text`); "" when unknown."""
        return ""

    def timed_stats(self, *, start: float, first_at, end: float, prompt_tokens: int, generated: int,
                    cached: int = 0, finish: str = "stop") -> Stats:
        """Stats of one generation from ``time.perf_counter()`` readings: the request
        (``start``), the first token (``first_at``, None when there was none) and the end.
        Tokens/s is decode speed: the tokens after the first over the time after it."""
        first_at = first_at or end
        decode = end - first_at
        return Stats(
            model=self.spec.id,
            backend=self.name,
            prompt_tokens=prompt_tokens,
            cached_tokens=cached,
            generated_tokens=generated,
            ttft_s=first_at - start,
            tokens_per_s=(generated - 1) / decode if generated > 1 and decode > 0 else 0.0,
            total_s=end - start,
            finish_reason=finish,
            placement=self.placement(),
        )

    def memory_bytes(self) -> int:
        """Memory the loaded model holds (weights and caches), best estimate."""
        return 0

    # Conversation state (KV cache) for backends that have one: the engine saves the
    # state after a turn and restores it before the next turn of the same conversation.
    def save_state(self):
        return None

    def restore_state(self, state) -> None:
        return None

    @staticmethod
    def state_bytes(state) -> int:
        return 0
