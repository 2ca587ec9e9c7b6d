"""A second llama.cpp context on a loaded model: its own KV cache, for completions.

The chat answer keeps the model's main context; a :class:`SideContext` shares the loaded
weights (no second copy, on the CPU or a GPU) and has a KV cache of its own, so a completion
never waits behind a chat answer and never disturbs its cache. Both decode at the same time
from different threads (llama.cpp releases the GIL while decoding).

    side = SideContext(llm, n_ctx=2048, threads=1)
    tokens = side.vocab.tokenize("def mean(xs):")
    reused = side.evaluate(tokens, cancel)   # only the tokens after the cached prefix are decoded
    token = side.greedy()                    # the most likely next token
    side.accept(token)                       # decode it; the cache now ends with it

The cache is kept between calls: :meth:`evaluate` decodes only what differs from the
tokens it holds (llama.cpp's KV prefix reuse), in batches so a cancel is seen quickly.
"""

from __future__ import annotations

import bisect
import ctypes
import threading

import numpy as np

#: tokens decoded per llama_decode call while evaluating a prompt: between batches a cancel is seen
EVAL_BATCH = 64


class Vocabulary:
    """A loaded model's tokenizer: what prompt assembly needs (also works on a model loaded
    with ``vocab_only``, as the tests do with tiny generated GGUFs)."""

    def __init__(self, model):
        import llama_cpp

        self._lib = llama_cpp
        self.model = model  # llama_cpp._internals.LlamaModel
        self._vocab = model.vocab
        self._piece = ctypes.create_string_buffer(64)
        self.size = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self._sorted = None  # (pieces in byte order, their ids), made on first use
        bos = llama_cpp.llama_vocab_bos(self._vocab)
        #: the BOS token a prompt starts with, None when the model adds none
        self.bos = bos if bos >= 0 and llama_cpp.llama_vocab_get_add_bos(self._vocab) else None

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        """Tokens of ``text`` with no BOS; ``special``: control-token text becomes those tokens
        (only for text we write, never for the user's code)."""
        if not text:
            return []
        return self.model.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def token_id(self, text: str) -> int | None:
        """The id of the single special token written ``text``, None when the vocabulary has none."""
        tokens = self.tokenize(text, special=True)
        if len(tokens) == 1 and self.model.token_get_text(tokens[0]) == text:
            return tokens[0]
        return None

    def text(self, token: int) -> str:
        return self.model.token_get_text(token)

    def piece(self, token: int) -> bytes:
        """The bytes ``token`` stands for (a part of a UTF-8 character, possibly)."""
        n = self._lib.llama_token_to_piece(self._vocab, token, self._piece, len(self._piece), 0, False)
        if n < 0:  # longer than the buffer: -n is the length it needs
            self._piece = ctypes.create_string_buffer(-n)
            n = self._lib.llama_token_to_piece(self._vocab, token, self._piece, len(self._piece), 0, False)
        return self._piece.raw[:n]

    def starting_with(self, data: bytes) -> np.ndarray:
        """Ids of the tokens whose bytes start with ``data`` (for token healing: the prompt's
        last token taken back, the first generated token must begin with its text)."""
        if self._sorted is None:
            pieces = [self.piece(token) for token in range(self.size)]
            order = sorted(range(self.size), key=pieces.__getitem__)
            self._sorted = ([pieces[i] for i in order], np.asarray(order, dtype=np.int64))
        pieces, ids = self._sorted
        low = bisect.bisect_left(pieces, data)
        high = bisect.bisect_left(pieces, data + b"\xff" * 8, lo=low)
        return ids[low:high]

    def is_control(self, token: int) -> bool:
        return bool(self._lib.llama_vocab_is_control(self._vocab, token))

    def is_end(self, token: int) -> bool:
        """End of generation, or a control token (never part of a completion)."""
        lib = self._lib
        return bool(lib.llama_vocab_is_eog(self._vocab, token) or lib.llama_vocab_is_control(self._vocab, token))

    def metadata(self, key: str) -> str:
        """A metadata string of the model (e.g. ``tokenizer.chat_template``), "" when absent."""
        buffer = ctypes.create_string_buffer(1 << 16)
        n = self._lib.llama_model_meta_val_str(self.model.model, key.encode(), buffer, len(buffer))
        if n >= len(buffer):
            buffer = ctypes.create_string_buffer(n + 1)
            n = self._lib.llama_model_meta_val_str(self.model.model, key.encode(), buffer, len(buffer))
        return buffer.raw[:n].decode("utf-8", "replace") if n >= 0 else ""


class Cancelled(Exception):
    """The evaluation was cancelled; the tokens decoded so far stay cached."""


class SideContext:
    """A llama.cpp context on ``llm``'s model, with its own KV cache (sequence 0).

    Not thread-safe by itself: hold :attr:`lock` while using it. :meth:`close` waits for
    the holder to let go, so a model is never freed under a running decode."""

    def __init__(self, llm, n_ctx: int, threads: int):
        import llama_cpp

        self._lib = llama_cpp
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.model = llm._model
        self.vocab = Vocabulary(llm._model)
        params = type(llm.context_params).from_buffer_copy(llm.context_params)
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = EVAL_BATCH
        params.n_seq_max = 1
        params.n_threads = params.n_threads_batch = threads
        self._ctx = llama_cpp.llama_init_from_model(self.model.model, params)
        if not self._ctx:
            raise MemoryError(f"llama.cpp could not make a {n_ctx}-token context for completions")
        adapter = getattr(llm, "_lora_adapter", None)
        if adapter is not None:  # the same adapter as the chat context
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
            llama_cpp.llama_set_adapters_lora(self._ctx, adapters, 1, (ctypes.c_float * 1)(llm.lora_scale))
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(EVAL_BATCH, 0, 1)
        self.n_ctx = llama_cpp.llama_n_ctx(self._ctx)
        self.n_vocab = self.vocab.size
        # the model's chat template and its BOS/EOS text (for a chat-style completion prompt)
        self.template = self.bos_text = self.eos_text = ""
        self.tokens: list[int] = []  # what the KV cache holds, in order
        self.evaluated = 0  # tokens decoded since this context was made (a figure for benchmarks)

    @property
    def closed(self) -> bool:
        return self._ctx is None

    # -- the cache ----------------------------------------------------------------------

    def evaluate(self, tokens: list[int], cancel: threading.Event | None = None) -> int:
        """Make the cache hold ``tokens`` with the logits of the last one ready; returns how
        many were reused. Raises :class:`Cancelled` when ``cancel`` is set between batches."""
        if not tokens:
            raise ValueError("nothing to evaluate")
        if len(tokens) > self.n_ctx:
            raise ValueError(f"{len(tokens)} tokens do not fit the {self.n_ctx}-token context")
        same = _common_prefix(self.tokens, tokens)
        keep = min(same, len(tokens) - 1)  # the last token is decoded again for its logits
        self._truncate(keep)
        for start in range(keep, len(tokens), EVAL_BATCH):
            if cancel is not None and cancel.is_set() or self.closing.is_set():
                raise Cancelled()
            self._decode(tokens[start : start + EVAL_BATCH])
        return keep

    def accept(self, token: int) -> None:
        """Decode one generated token after the cached ones."""
        self._decode([token])

    def greedy(self, among: np.ndarray | None = None) -> int:
        """The most likely next token after the last decoded one (of the ids ``among``)."""
        logits = np.ctypeslib.as_array(self._lib.llama_get_logits_ith(self._ctx, -1), shape=(self.n_vocab,))
        if among is not None and len(among):
            return int(among[np.argmax(logits[among])])
        return int(np.argmax(logits))

    def clear(self) -> None:
        self._truncate(0)

    def _truncate(self, n: int) -> None:
        if n < len(self.tokens):
            self._lib.llama_memory_seq_rm(self._memory, 0, n, -1)
            del self.tokens[n:]

    def _decode(self, tokens: list[int]) -> None:
        batch, n_past = self._batch, len(self.tokens)
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = n_past + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = False
        batch.logits[len(tokens) - 1] = True
        code = self._lib.llama_decode(self._ctx, batch)
        if code != 0:
            self.clear()  # the cache state is unknown: start over next time
            raise RuntimeError(f"llama_decode returned {code}")
        self.tokens.extend(tokens)
        self.evaluated += len(tokens)

    def close(self) -> None:
        """Free the context, after the request using it (told to stop) lets go of it."""
        self.closing.set()
        with self.lock:
            if self._ctx is not None:
                self._lib.llama_batch_free(self._batch)
                self._lib.llama_free(self._ctx)
                self._ctx = None
                self.tokens = []


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.nonzero(np.asarray(a[:n]) != np.asarray(b[:n]))[0]
    return int(diff[0]) if len(diff) else n
