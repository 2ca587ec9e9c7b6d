"""MLX through mlx-lm, in-process: the default on Apple Silicon, and ``mlx[cpu]`` elsewhere.

Loads MLX model folders (the mlx-community format: config.json + *.safetensors, from a path
or the Hugging Face cache, never downloading) and GGUF files through MLX's own GGUF reader
(``mlx_gguf``), so the bundled model runs here too. The prompt is rendered with the model's
chat template in the same sandbox as the llama.cpp backend and streamed with mlx-lm's
``stream_generate``; the KV cache of the last turn is kept, so a follow-up turn evaluates only
the tokens after the longest common prefix. A LoRA adapter folder made by ``mlx_lm.lora``
(adapter_config.json + adapters.safetensors) is applied with ``adapter``.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import (
    BackendUnavailable,
    GenerationError,
    InsufficientMemory,
    ModelFileError,
)
from ..reasoning import opens_reasoning
from ..types import Chunk, GenerationParams, Message, ProgressCallback
from ..units import human_size
from .base import Backend, placement_text
from .chat_template import render

INSTALL_HINT = (
    "MLX is not installed: run `pip install 'jupyter-tinyai[mlx]'` (on Apple Silicon: mlx and mlx-lm; "
    "on Linux it installs the CPU build, mlx[cpu], which is much slower than llama.cpp)."
)
#: llama-cpp-python's default repeat window, so greedy answers match across backends
REPEAT_LAST_N = 64


def _import_mlx():
    try:
        import mlx.core as mx
        import mlx_lm  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailable(INSTALL_HINT) from exc
    return mx


@dataclass
class MLXState:
    """A conversation's KV cache (mlx-lm cache objects) and the tokens it holds."""

    cache: list
    tokens: list


class MLXBackend(Backend):
    name = "mlx"

    def __init__(self, spec, settings):
        super().__init__(spec, settings)
        self._model = None
        self._tokenizer = None  # mlx_lm TokenizerWrapper
        self._template = ""
        self._bos = self._eos = ""
        self._add_bos = False
        self._config: dict = {}
        self._cache: list | None = None
        self._cache_tokens: list = []

    # -- loading ------------------------------------------------------------------------

    def _trained_context(self) -> int:
        return int(self.spec.context_length or self._config.get("max_position_embeddings") or 0)

    def _context_size(self) -> int:
        trained = self._trained_context()
        return min(self.settings.n_ctx, trained) if trained else self.settings.n_ctx

    def _kv_bytes_per_token(self) -> int:
        if self.spec.format == "gguf":
            from ..formats.gguf_file import read_gguf

            return read_gguf(self.spec.path).kv_bytes_per_token()
        config = self._read_folder_config()
        layers = int(config.get("num_hidden_layers", 0) or 0)
        heads = int(config.get("num_attention_heads", 0) or 0)
        kv_heads = int(config.get("num_key_value_heads", heads) or heads)
        head_dim = int(config.get("head_dim", 0) or (int(config.get("hidden_size", 0) or 0) // heads if heads else 0))
        return 2 * 2 * layers * kv_heads * head_dim  # keys and values, float16

    def _read_folder_config(self) -> dict:
        import json

        try:
            with open(os.path.join(self.spec.path, "config.json"), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def estimate_bytes(self) -> int:
        # weights + the KV cache for the whole window (MLX grows it as needed) + working buffers
        return self.spec.size_bytes + self._kv_bytes_per_token() * self._context_size() + 128 * 1024 * 1024

    def _check_working_set(self, mx) -> None:
        """On Apple Silicon, refuse a model larger than Metal's recommended working set (it would
        page to disk and crawl); elsewhere the engine's check against free memory applies."""
        try:
            limit = int(mx.device_info().get("max_recommended_working_set_size", 0) or 0)
        except (AttributeError, RuntimeError, TypeError):  # older mlx, or no Metal
            limit = 0
        need = self.estimate_bytes()
        if limit and need > limit:
            raise InsufficientMemory(
                f"{self.spec.name} needs about {human_size(need)}, more than the {human_size(limit)} "
                "this Mac's GPU can use (its recommended working set). Choose a smaller or more quantized "
                "model, or lower c.TinyAI.n_ctx."
            )

    def load(self, progress: ProgressCallback | None = None) -> None:
        mx = _import_mlx()
        self._check_working_set(mx)
        if progress:
            progress(0.0, f"loading {self.spec.name} with MLX")
        if self.spec.format == "gguf":
            self._load_gguf()
        elif self.spec.format == "mlx":
            self._load_folder()
        else:
            raise ModelFileError(f"the MLX backend cannot run {self.spec.format!r} models.")
        if progress:
            progress(0.8, f"loaded the weights of {self.spec.name}")
        if self.settings.adapter:
            self._apply_adapter(self.settings.adapter)
        self._cache, self._cache_tokens = None, []
        if progress:
            progress(1.0, f"loaded {self.spec.name}")

    def _load_gguf(self) -> None:
        from mlx_lm.tokenizer_utils import BPEStreamingDetokenizer, TokenizerWrapper

        from . import mlx_gguf

        self._model, self._config, metadata = mlx_gguf.load_model(self.spec.path)
        tokenizer, eos_ids = mlx_gguf.build_tokenizer(metadata)
        self._tokenizer = TokenizerWrapper(tokenizer, BPEStreamingDetokenizer, eos_token_ids=eos_ids)
        info = mlx_gguf.tokenizer_info(metadata)
        self._template, self._bos, self._eos, self._add_bos = info["chat_template"], info["bos"], info["eos"], info["add_bos"]

    def _load_folder(self) -> None:
        from pathlib import Path

        from mlx_lm.utils import load_model, load_tokenizer

        path = Path(self.spec.path)
        if not (path / "config.json").is_file():  # mlx-lm would try to download a missing path
            raise ModelFileError(f"{path} is not an MLX model folder (no config.json).")
        try:
            self._model, self._config = load_model(path)
            self._tokenizer = load_tokenizer(path, eos_token_ids=self._config.get("eos_token_id"))
        except (ValueError, FileNotFoundError, KeyError, OSError) as exc:
            raise ModelFileError(
                f"MLX could not load the model folder {path} ({exc}). It may be incomplete or made for a "
                "newer mlx-lm: run `pip install -U mlx-lm`, or convert it again with `mlx_lm.convert`."
            ) from exc
        tok = self._tokenizer
        self._template = getattr(tok, "chat_template", None) or ""
        self._bos = tok.bos_token or ""
        self._eos = tok.eos_token or ""
        self._add_bos = bool(getattr(tok, "add_bos_token", False)) and bool(self._bos)

    def _apply_adapter(self, adapter: str) -> None:
        from mlx_lm.utils import load_adapters

        path = os.path.expanduser(adapter)
        if not (os.path.isdir(path) and os.path.isfile(os.path.join(path, "adapter_config.json"))):
            hint = " A .gguf adapter is for llama.cpp: use --backend llamacpp with it." if path.lower().endswith(".gguf") else ""
            raise ModelFileError(
                f"{adapter} is not an mlx-lm adapter folder (adapter_config.json and adapters.safetensors, "
                f"as written by `mlx_lm.lora --train`).{hint}"
            )
        try:
            self._model = load_adapters(self._model, path)
        except (ValueError, FileNotFoundError, KeyError, AttributeError) as exc:
            raise ModelFileError(
                f"the adapter {adapter} does not fit {self.spec.name} ({str(exc).strip()}). "
                "Use an adapter trained on this same model."
            ) from exc
        self._model.eval()

    def unload(self) -> None:
        self._model = self._tokenizer = None
        self._cache, self._cache_tokens = None, []
        try:
            import mlx.core as mx

            mx.clear_cache()
        except (ImportError, AttributeError):  # pragma: no cover
            pass

    @property
    def n_ctx(self) -> int:
        return self._context_size()

    def placement(self) -> str:
        if self._model is None:
            return ""
        import mlx.core as mx

        if mx.default_device().type != mx.DeviceType.gpu:
            return placement_text("MLX (CPU)")
        return placement_text("MLX (Metal)" if mx.metal.is_available() else "MLX (GPU)")

    def memory_bytes(self) -> int:
        if self._model is None:
            return 0
        from mlx.utils import tree_flatten

        weights = sum(v.nbytes for _, v in tree_flatten(self._model.parameters()))
        return weights + (self.state_bytes(MLXState(self._cache, [])) if self._cache else 0)

    # -- tokens -------------------------------------------------------------------------

    def _prompt_tokens(self, messages: list[Message], thinking: bool = True) -> list[int]:
        text = render(self._template, [m.to_dict() for m in messages], self._bos, self._eos, thinking)
        self.opened_reasoning = opens_reasoning(text)  # the template began a <think> block
        tokens = self._tokenizer.encode(text, add_special_tokens=False)
        if self._add_bos and not (self._bos and text.startswith(self._bos)):
            tokens = [self._tokenizer.bos_token_id] + tokens
        return list(tokens)

    def count_tokens(self, messages: list[Message]) -> int:
        return len(self._prompt_tokens(messages))

    # -- generation ---------------------------------------------------------------------

    def _reuse_cache(self, tokens: list[int]) -> int:
        """Keep the cached prefix ``tokens`` shares with the last turn; return its length."""
        from mlx_lm.models.cache import (
            can_trim_prompt_cache,
            make_prompt_cache,
            trim_prompt_cache,
        )

        if self._cache is None:
            self._cache, self._cache_tokens = make_prompt_cache(self._model), []
        held = self._cache_tokens
        common = 0
        for a, b in zip(held, tokens):
            if a != b:
                break
            common += 1
        common = min(common, len(tokens) - 1)  # at least one token must be evaluated
        if common < len(held):
            if common == 0 or not can_trim_prompt_cache(self._cache):
                self._cache, common = make_prompt_cache(self._model), 0
            else:
                trim_prompt_cache(self._cache, len(held) - common)
        self._cache_tokens = tokens[:common]
        return common

    def stream(self, messages: list[Message], params: GenerationParams, cancel: threading.Event) -> Iterator[Chunk]:
        if self._model is None:
            raise GenerationError("no model is loaded.")
        import mlx.core as mx
        from mlx_lm import stream_generate
        from mlx_lm.sample_utils import make_logits_processors, make_sampler

        start = time.perf_counter()
        tokens = self._prompt_tokens(messages, params.thinking)
        n_ctx = self.n_ctx
        if len(tokens) >= n_ctx:
            raise GenerationError(f"the prompt has {len(tokens)} tokens, more than the {n_ctx}-token context window.")
        cached = self._reuse_cache(tokens)
        mx.random.seed(params.seed if params.seed is not None else random.randrange(2**31))
        sampler = make_sampler(
            temp=params.temperature,
            top_p=params.top_p if params.temperature > 0 else 0.0,
            top_k=params.top_k if params.temperature > 0 else 0,
        )
        processors = (
            make_logits_processors(repetition_penalty=params.repeat_penalty, repetition_context_size=REPEAT_LAST_N)
            if params.repeat_penalty and params.repeat_penalty != 1.0
            else None
        )
        max_new = max(1, min(params.max_tokens, n_ctx - len(tokens)))
        generated: list[int] = []
        first_at, finish = None, "length"
        responses = stream_generate(
            self._model,
            self._tokenizer,
            mx.array(tokens[cached:]),
            max_tokens=max_new,
            sampler=sampler,
            logits_processors=processors,
            prompt_cache=self._cache,
        )
        try:
            for response in responses:
                if first_at is None:
                    first_at = time.perf_counter()
                if response.finish_reason is None or response.finish_reason == "length":
                    generated.append(int(response.token))
                if response.finish_reason is not None:
                    finish = response.finish_reason
                if response.text:
                    yield Chunk(text=response.text)
                if response.finish_reason is None and cancel.is_set():
                    finish = "cancelled"
                    break
        finally:
            responses.close()
            self._settle_cache(tokens + generated)
        stats = self.timed_stats(
            start=start, first_at=first_at, end=time.perf_counter(), prompt_tokens=len(tokens),
            generated=len(generated), cached=cached, finish=finish,
        )
        yield Chunk(stats=stats)

    def _settle_cache(self, known: list[int]) -> None:
        """After a turn the cache holds the prompt and the answer, maybe one token ahead of
        what we saw (mlx-lm computes the next token early): trim to what we know."""
        from mlx_lm.models.cache import can_trim_prompt_cache, trim_prompt_cache

        if not self._cache:
            return
        offset = getattr(self._cache[0], "offset", None)
        if not isinstance(offset, int) or (offset > len(known) and not can_trim_prompt_cache(self._cache)):
            # a cache whose contents we cannot tell (recurrent layers): start afresh next turn
            self._cache, self._cache_tokens = None, []
            return
        if offset > len(known):
            trim_prompt_cache(self._cache, offset - len(known))
            offset = len(known)
        self._cache_tokens = known[:offset]

    # -- conversation state ---------------------------------------------------------------

    def save_state(self) -> MLXState | None:
        """Hand the live cache over (the engine switches conversations right after)."""
        if not self._cache or not self._cache_tokens:
            return None
        state = MLXState(self._cache, self._cache_tokens)
        self._cache, self._cache_tokens = None, []
        return state

    def restore_state(self, state: MLXState) -> None:
        self._cache, self._cache_tokens = state.cache, list(state.tokens)

    @staticmethod
    def state_bytes(state) -> int:
        if state is None or not state.cache:
            return 0
        return int(sum(getattr(c, "nbytes", 0) for c in state.cache))
