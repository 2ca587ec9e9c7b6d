"""llama.cpp through llama-cpp-python, in-process.

The prompt is rendered with the GGUF's own chat template (sandboxed), tokenized once, and
decoded token by token with ``Llama.generate``, which reuses the KV cache of the longest
matching prefix: a follow-up turn evaluates only its new tokens.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import BackendUnavailable, GenerationError, ModelFileError
from ..formats.gguf_file import KV_CACHE_TYPES, read_gguf, tensor_index
from ..reasoning import opens_reasoning
from ..types import Chunk, GenerationParams, Message, ProgressCallback
from . import offload, prompt_lookup
from .base import Backend
from .chat_template import render

INSTALL_HINT = (
    "llama-cpp-python is not installed: run `pip install 'jupyter-tinyai[llama]'`. "
    "It compiles llama.cpp; on CPUs whose AMX or AVX-512 instructions fail (some VMs), set "
    "CMAKE_ARGS=\"-DGGML_NATIVE=OFF -DGGML_AVX512=ON\" first (see the README's troubleshooting)."
)


def _import_llama_cpp():
    try:
        import llama_cpp
    except ImportError as exc:
        raise BackendUnavailable(INSTALL_HINT) from exc
    return llama_cpp


_quiet_lock = threading.Lock()
_quieted = False


def _silence_native_logs(llama_cpp) -> None:
    """llama.cpp prints hundreds of lines to stderr while loading; keep errors only."""
    global _quieted
    with _quiet_lock:
        if _quieted:
            return

        @llama_cpp.llama_log_callback
        def _log(level, text, user_data):  # pragma: no cover - native callback
            if level == 4:  # GGML_LOG_LEVEL_ERROR
                import sys

                sys.stderr.write(text.decode("utf-8", "replace"))

        llama_cpp.llama_log_set(_log, ctypes.c_void_p(0))
        _silence_native_logs.callback = _log  # keep a reference
        _quieted = True


@dataclass
class KVState:
    data: bytes
    input_ids: np.ndarray


class LlamaCppBackend(Backend):
    name = "llamacpp"

    def __init__(self, spec, settings):
        super().__init__(spec, settings)
        self._llm = None
        self._info = None
        self._template = ""
        self._bos = self._eos = ""
        self._add_bos = False
        self._plan: offload.Plan | None = None
        self._loaded_ctx = self._weights_bytes = 0
        self._side = None  # the completion context on this model (llamacpp_side.SideContext)
        self._side_lock = threading.Lock()
        self.last_lookup: prompt_lookup.Figures | None = None  # the last prompt-lookup request's figures
        self.lookup_check = prompt_lookup.Suitability()  # where prompt lookup suits this model

    def _gguf(self):
        if self._info is None:
            self._info = read_gguf(self.spec.path)
        return self._info

    def _context_size(self) -> int:
        trained = self._gguf().context_length
        return min(self.settings.n_ctx, trained) if trained else self.settings.n_ctx

    @property
    def plan(self) -> offload.Plan:
        """Where this model runs (GPU layers, flash attention, threads), decided once before loading."""
        if self._plan is None:
            from ..config import default_threads
            from ..memory import memory_budget

            s, info = self.settings, self._gguf()
            gpu = offload.llama_gpu()
            free = (gpu.free_bytes or memory_budget().gpu_free_bytes) if gpu is not None and s.gpu_layers != 0 else 0
            plan = offload.plan(
                offload.model_shape(info, self.spec.size_bytes), info.kv_bytes_per_token(s.kv_cache_type),
                self._context_size(), gpu, free, s.gpu_layers, s.flash_attention, s.kv_cache_type,
            )
            plan.threads = s.threads or default_threads(all_layers_on_gpu=plan.all_on_gpu)
            self._plan = plan
        return self._plan

    def estimate_bytes(self) -> int:
        # RAM: the weights (memory-mapped) and KV cache of the layers not on a GPU, compute buffers
        return self.plan.ram_bytes

    def memory_detail(self) -> str:
        plan = self.plan
        if plan.layers and not plan.gpu.unified:
            return offload.describe(plan)
        return super().memory_detail()

    def placement(self) -> str:
        return self.plan.text() if self._llm is not None else ""

    def load(self, progress: ProgressCallback | None = None) -> None:
        llama_cpp = _import_llama_cpp()
        info = self._gguf()  # a bad file fails here with a clear message, before llama.cpp
        if progress:
            progress(0.0, f"loading {self.spec.name}")
        _silence_native_logs(llama_cpp)
        kwargs = {}
        if self.settings.adapter:
            kwargs["lora_path"] = _check_adapter(self.settings.adapter, info)
        plan = self.plan
        if plan.kv_cache_type != "f16":
            kwargs["type_k"] = kwargs["type_v"] = KV_CACHE_TYPES[plan.kv_cache_type]
        try:
            self._llm = llama_cpp.Llama(
                model_path=self.spec.path,
                n_ctx=self._context_size(),
                n_threads=plan.threads,
                n_threads_batch=plan.threads,
                n_batch=512,
                n_gpu_layers=plan.n_gpu_layers,
                flash_attn=plan.flash_attn,
                verbose=False,
                **kwargs,
            )
        except (ValueError, RuntimeError) as exc:
            if self.settings.adapter and "lora" in str(exc).lower():
                raise ModelFileError(
                    f"llama.cpp refused the adapter {self.settings.adapter}: its tensors do not fit "
                    f"{self.spec.name} (it was made for another base model, or is damaged). Convert the "
                    "adapter against this model with llama.cpp's convert_lora_to_gguf.py."
                ) from exc
            what = self.spec.path
            if plan.layers:
                raise ModelFileError(
                    f"llama.cpp could not load {what} with {plan.text()} ({exc}). The GPU may be short of "
                    "memory: set c.TinyAI.gpu_layers to fewer layers (0 runs it on the CPU), or lower c.TinyAI.n_ctx."
                ) from exc
            raise ModelFileError(
                f"llama.cpp could not load {what} ({exc}). The file may be corrupt, or made for a newer "
                "llama.cpp: download it again, or upgrade llama-cpp-python."
            ) from exc
        model = self._llm._model
        self._template = info.chat_template
        self._bos = model.token_get_text(model.token_bos()) if model.token_bos() >= 0 else ""
        self._eos = model.token_get_text(model.token_eos()) if model.token_eos() >= 0 else ""
        self._add_bos = model.add_bos_token()
        # kept as numbers: a status request may ask while another thread frees the model
        self._loaded_ctx, self._weights_bytes = self._llm.n_ctx(), int(model.size())
        if progress:
            progress(1.0, f"loaded {self.spec.name}")

    def unload(self) -> None:
        with self._side_lock:
            llm, self._llm = self._llm, None
            side, self._side = self._side, None
        self.lookup_check = prompt_lookup.Suitability()
        if side is not None:
            side.close()  # waits for a completion using it to stop
        if llm is not None:
            llm.close()

    @property
    def is_loaded(self) -> bool:
        return self._llm is not None

    def side_context(self, n_ctx: int):
        """The second context on this model that completions use (its own KV cache, the same
        weights), made on first use with at most ``n_ctx`` tokens; closed by :meth:`unload`."""
        from .llamacpp_side import SideContext

        with self._side_lock:
            if self._llm is None:
                raise GenerationError("no model is loaded.")
            if self._side is None or self._side.closed:
                trained = self._gguf().context_length
                self._side = SideContext(self._llm, min(n_ctx, trained) if trained else n_ctx, self.plan.threads)
                self._side.template, self._side.bos_text, self._side.eos_text = self._template, self._bos, self._eos
            return self._side

    @property
    def n_ctx(self) -> int:
        return self._loaded_ctx if self._llm is not None else self._context_size()

    def memory_bytes(self) -> int:
        if self._llm is None:
            return 0
        return self._weights_bytes + self._gguf().kv_bytes_per_token(self.settings.kv_cache_type) * self.n_ctx

    # -- tokens -------------------------------------------------------------------------

    def _prompt_tokens(self, messages: list[Message], thinking: bool = True) -> list[int]:
        text = render(self._template, [m.to_dict() for m in messages], self._bos, self._eos, thinking)
        self.opened_reasoning = opens_reasoning(text)  # the template began a <think> block
        add_bos = self._add_bos and not (self._bos and text.startswith(self._bos))
        return self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def count_tokens(self, messages: list[Message]) -> int:
        return len(self._prompt_tokens(messages))

    # -- generation ---------------------------------------------------------------------

    def stream(self, messages: list[Message], params: GenerationParams, cancel: threading.Event) -> Iterator[Chunk]:
        llm = self._llm
        if llm is None:
            raise GenerationError("no model is loaded.")
        start = time.perf_counter()
        tokens = self._prompt_tokens(messages, params.thinking)
        n_ctx = llm.n_ctx()
        if len(tokens) >= n_ctx:
            raise GenerationError(f"the prompt has {len(tokens)} tokens, more than the {n_ctx}-token context window.")
        cached = _common_prefix(llm.input_ids[: llm.n_tokens], tokens)
        llm.set_seed(params.seed if params.seed is not None else random.randrange(2**31))
        vocab = llm._model.vocab
        is_eog = self._is_eog_fn()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        max_new = min(params.max_tokens, n_ctx - len(tokens))
        generated, first_at, finish = 0, None, "length"
        if not _prefill(llm, tokens, cancel):
            stats = self.timed_stats(start=start, first_at=None, end=time.perf_counter(), prompt_tokens=len(tokens),
                                     generated=0, cached=cached, finish="cancelled")
            yield Chunk(stats=stats)
            return
        generator = self._tokens(llm, tokens, params, max_new)
        try:
            for token in generator:
                if first_at is None:
                    first_at = time.perf_counter()
                if is_eog(vocab, token):
                    finish = "stop"
                    break
                generated += 1
                text = decoder.decode(llm.detokenize([token]))
                if text:
                    yield Chunk(text=text)
                if cancel.is_set():
                    finish = "cancelled"
                    break
                if generated >= max_new:
                    break
        finally:
            generator.close()
        tail = decoder.decode(b"", final=True)
        stats = self.timed_stats(
            start=start, first_at=first_at, end=time.perf_counter(), prompt_tokens=len(tokens),
            generated=generated, cached=cached, finish=finish,
        )
        yield Chunk(text=tail, stats=stats)

    def _tokens(self, llm, tokens: list[int], params: GenerationParams, max_new: int):
        """The answer's tokens: plain decoding, or prompt lookup when ``params.draft`` asks
        (with ``draft_exact``, only where it pays and as far as this model's batches are exact)."""
        sampling = dict(temp=params.temperature, top_k=params.top_k, top_p=params.top_p, repeat_penalty=params.repeat_penalty)
        if params.draft == "prompt_lookup" and prompt_lookup.supported(llm):
            until = self.lookup_check.exact_to_for(llm, tokens) if params.draft_exact else llm.n_ctx()
            if until:
                self.last_lookup = prompt_lookup.Figures()
                return prompt_lookup.generate(
                    llm, tokens, llm._init_sampler(**sampling), prompt_lookup.drafter(), max_new, self.last_lookup, until
                )
        return llm.generate(tokens, reset=True, **sampling)

    def _is_eog_fn(self):
        import llama_cpp

        return llama_cpp.llama_vocab_is_eog

    # -- conversation state ---------------------------------------------------------------

    def save_state(self) -> KVState | None:
        """The KV cache and its tokens (without llama-cpp-python's logits copy, ~100 MB)."""
        llm = self._llm
        if llm is None or llm.n_tokens == 0:
            return None
        import llama_cpp

        size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = llama_cpp.llama_state_get_data(llm._ctx.ctx, buffer, size)
        return KVState(bytes(buffer)[: int(written)], llm.input_ids[: llm.n_tokens].copy())

    def restore_state(self, state: KVState) -> None:
        import llama_cpp

        llm = self._llm
        buffer = (ctypes.c_uint8 * len(state.data)).from_buffer_copy(state.data)
        if llama_cpp.llama_state_set_data(llm._ctx.ctx, buffer, len(state.data)) != len(state.data):
            llm.reset()  # the cache is unusable: the next turn evaluates its whole prompt
            return
        n = len(state.input_ids)
        llm.input_ids[:n] = state.input_ids
        llm.n_tokens = n
        llm._requires_eval = True

    @staticmethod
    def state_bytes(state) -> int:
        return len(state.data) + state.input_ids.nbytes if state is not None else 0


def _check_adapter(adapter: str, model_info) -> str:
    """The adapter's path, after checking it is a GGUF LoRA adapter for this architecture."""
    path = os.path.abspath(os.path.expanduser(adapter))
    if os.path.isdir(path):
        hint = (
            " It is an mlx-lm adapter folder: use it with an MLX model (--backend mlx)."
            if os.path.isfile(os.path.join(path, "adapter_config.json"))
            else ""
        )
        raise ModelFileError(f"{adapter} is a folder; llama.cpp takes a GGUF LoRA adapter file.{hint}")
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            if handle.read(4) != b"GGUF":
                raise ModelFileError(
                    f"{adapter} is not a GGUF LoRA adapter (it does not start with 'GGUF'): pass a GGUF LoRA "
                    "adapter file, e.g. one converted with llama.cpp's convert_lora_to_gguf.py."
                )
    info = read_gguf(path)  # not there, truncated: a clear ModelFileError
    if not info.is_adapter:
        raise ModelFileError(
            f"{adapter} is a model, not a LoRA adapter (its general.type is not 'adapter'). "
            "Convert a trained adapter with llama.cpp's convert_lora_to_gguf.py."
        )
    if info.architecture and model_info.architecture and info.architecture != model_info.architecture:
        raise ModelFileError(
            f"the adapter {adapter} is for {info.architecture!r} models and this model is "
            f"{model_info.architecture!r}: use an adapter trained on this model."
        )
    # llama.cpp 0.3.x accepts some mis-shaped adapters and then crashes while decoding: check first
    model_shapes, adapter_shapes = _tensor_shapes(model_info.path), _tensor_shapes(path)
    for name, a in adapter_shapes.items():
        if not name.endswith(".lora_a"):
            continue
        target = name[: -len(".lora_a")]
        w, b = model_shapes.get(target), adapter_shapes.get(target + ".lora_b")
        if w is None or b is None or len(a) != 2 or len(b) != 2 or a[0] != w[0] or b[1] != w[1] or a[1] != b[0]:
            raise ModelFileError(
                f"the adapter {adapter} does not fit this model: its {target} "
                + ("is not a tensor of the model" if w is None else f"has shape {a}x{b or '?'}, the model's is {w}")
                + ". It was made for another base model: convert it against this one with llama.cpp's "
                "convert_lora_to_gguf.py."
            )
    return path


def _tensor_shapes(path: str) -> dict:
    """Tensor name -> shape (ggml order, ne[0] first) from a GGUF's tensor index; no data is read."""
    return {tensor.name: list(tensor.shape) for tensor in tensor_index(path)}


def _prefill(llm, tokens: list[int], cancel: threading.Event) -> bool:
    """Evaluate the prompt's uncached tokens but its last batch, one batch at a time, so that
    a stop while a long prompt is read ends it at the next batch (llama.cpp's ``generate``
    evaluates a whole prompt in one call). The batches are those ``generate`` would make, so
    the answer is the same; it evaluates the last one. False when stopped."""
    start = min(_common_prefix(llm.input_ids[: llm.n_tokens], tokens), len(tokens) - 1)
    full = (len(tokens) - start - 1) // llm.n_batch  # batches before the last one
    if full == 0:  # a short prompt: a stop is seen after its first token, as before
        return True
    llm.n_tokens = start  # llm.eval drops the cache from here on
    for i in range(full):
        if cancel.is_set():
            return False
        llm.eval(tokens[start + i * llm.n_batch : start + (i + 1) * llm.n_batch])
    return not cancel.is_set()


def _common_prefix(a, b) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.nonzero(np.asarray(a[:n]) != np.asarray(b[:n], dtype=np.intc))[0]
    return int(diff[0]) if len(diff) else n
