"""Prompt-lookup (n-gram) speculative decoding on a llama-cpp-python ``Llama``.

A rewrite copies most of its input: the tokens that follow the answer's last few tokens are
often the ones that followed the same tokens earlier in the prompt. :class:`Drafter`
proposes them; one batch evaluates the last token with the proposal, and the model's own
choice at each position (sampled with the same sampler chain as plain decoding) is kept up
to the first disagreement. Every token of the answer is the model's choice.

Greedy text stays the text of plain decoding only if llama.cpp computes a token's logits
bit for bit the same in a batch as alone. That depends on the build and the settings (on an
x86 CPU: with flash attention and one thread, yes; without flash attention, or with two
threads, the logits differ by up to ~1.3 and a near tie can go the other way). And it only
pays where a batch costs little more than one token. :class:`Suitability` checks both once
per loaded model; the backend decodes plainly where either fails, unless told to use prompt
lookup anyway.

llama-cpp-python's own ``Llama(draft_model=...)`` (whose ``LlamaPromptLookupDecoding`` this
drafter refines) is fixed when the model is created and then keeps the logits of every
token of every request (an n_ctx x vocabulary array: 1.6 GB for 8192 x 49152); this loop
asks llama.cpp for logits only where it samples, and only for the requests that ask for it.

    for token in generate(llm, prompt_tokens, llm._init_sampler(temp=0.0), Drafter(), limit=200):
        ...
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: the longest n-gram looked up, and the shortest
MAX_NGRAM = 3
MIN_NGRAM = 2
#: the first proposal's length, and the longest (a verification batch is one token more)
FIRST_PROPOSAL = 4
LONGEST_PROPOSAL = 15
#: the batch sizes :func:`batches_exact` compares with single tokens (they add up to its probe)
PROBE_BATCHES = (4, 12)


@dataclass
class Figures:
    """What one generation's lookups did: model passes, tokens proposed and kept."""

    passes: int = 0
    drafted: int = 0
    accepted: int = 0


def supported(llm) -> bool:
    """Whether ``llm``'s cache can drop rejected tokens (not so for recurrent models)."""
    return not (getattr(llm, "_is_recurrent", False) or getattr(llm, "_is_hybrid", False))


def drafter() -> Drafter:
    """A new drafter, for one request."""
    return Drafter()


class Drafter:
    """Proposes the tokens that followed the answer's last tokens in the prompt: it follows
    the copy it is on while the model keeps accepting it, else looks the last ``max_ngram``
    down to ``min_ngram`` tokens up (earliest match first). The proposal grows while whole
    proposals are accepted and shrinks when they are not, so an answer that stops copying
    wastes few evaluated tokens (each costs nearly a token's time on a CPU)."""

    def __init__(self, max_ngram: int = MAX_NGRAM, min_ngram: int = MIN_NGRAM, start: int = FIRST_PROPOSAL, most: int = LONGEST_PROPOSAL):
        self.max_ngram, self.min_ngram, self.most = max_ngram, min_ngram, most
        self.size = start
        self._next: int | None = None  # where the copy being followed continues
        self._proposed = 0

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        n = len(ids)
        start = self._next
        if start is None or not (self.min_ngram <= start < n and np.array_equal(ids[start - self.min_ngram : start], ids[n - self.min_ngram :])):
            start = self._lookup(ids)
        if start is None:
            self._next, self._proposed = None, 0
            return ids[:0]
        proposal = ids[start : start + self.size]
        self._next, self._proposed = start, len(proposal)
        return proposal

    def _lookup(self, ids: np.ndarray) -> int | None:
        n = len(ids)
        for size in range(min(self.max_ngram, n - 1), self.min_ngram - 1, -1):
            windows = np.lib.stride_tricks.sliding_window_view(ids[: n - 1], size)
            hits = np.nonzero(np.all(windows == ids[n - size :], axis=1))[0]
            if len(hits):
                return int(hits[0]) + size
        return None

    def accepted(self, count: int) -> None:
        """The model kept ``count`` tokens of the last proposal."""
        if not self._proposed:
            return
        if count == self._proposed:
            self.size = min(self.most, self.size + 2)
        else:
            self.size = max(1, self.size // 2)
        self._next = self._next + count + 1 if self._next is not None else None


def _decode(llm, tokens: list[int], n_past: int, logits_from: int) -> None:
    """Evaluate ``tokens`` at positions ``n_past``..., with logits from index ``logits_from``."""
    llm._ctx.kv_cache_seq_rm(-1, n_past, -1)
    batch = llm._batch
    batch.set_batch(batch=tokens, n_past=n_past, logits_all=False)
    for i in range(logits_from, len(tokens)):
        batch.batch.logits[i] = True
    llm._ctx.decode(batch)
    llm.input_ids[n_past : n_past + len(tokens)] = tokens


def _logits(llm, index: int) -> np.ndarray:
    n_vocab = llm.n_vocab()
    return np.ctypeslib.as_array(llm._ctx.get_logits_ith(index), shape=(n_vocab,)).copy()


def _cache(llm, tokens: list[int]) -> None:
    """Make ``llm``'s cache hold ``tokens`` and nothing more (evaluating what it lacks)."""
    n = _common(llm, tokens)
    if not llm._ctx.kv_cache_seq_rm(-1, n, -1):
        n = 0
    for start in range(n, len(tokens), llm.n_batch):
        _decode(llm, tokens[start : start + llm.n_batch], start, logits_from=llm.n_batch)
    llm.n_tokens = len(tokens)
    llm._requires_eval = True


def batches_exact(llm, context: list[int], probe: list[int]) -> tuple[bool, float]:
    """Whether llama.cpp computes the logits of ``probe``'s tokens, after ``context``, bit for
    bit the same in batches (of the sizes verification uses) as one by one; and what the
    largest batch cost, in single-token passes. Afterwards the cache holds ``context``."""
    _cache(llm, context)
    base = len(context)
    try:
        alone, times = [], []
        for i, token in enumerate(probe):
            start = time.perf_counter()
            _decode(llm, [token], base + i, 0)
            times.append(time.perf_counter() - start)
            alone.append(_logits(llm, 0))
        together, start, cost = [], 0, 0.0
        for size in PROBE_BATCHES:
            batch = probe[start : start + size]
            if batch:
                began = time.perf_counter()
                _decode(llm, batch, base + start, 0)
                cost = (time.perf_counter() - began) / max(min(times), 1e-9)
                together += [_logits(llm, i) for i in range(len(batch))]
            start += size
        return len(probe) > 1 and all(np.array_equal(a, b) for a, b in zip(alone, together)), cost
    finally:
        if not llm._ctx.kv_cache_seq_rm(-1, base, -1):
            base = 0
        llm.n_tokens = base
        llm._requires_eval = True


class Suitability:
    """Whether prompt lookup suits one loaded model, as far as it was checked: where its
    batches are exact (:func:`batches_exact`) and whether a batch is cheap enough to pay.

    llama.cpp changes kernels with the cache's length (on an x86 CPU with flash attention:
    exact below 256 tokens with two threads, below ~2,600 with one), so a check holds for its
    length and the shorter ones, a failure for its length and the longer ones; lengths
    between are checked when a request needs them, at the next multiple of ``STEP`` (a
    prefill of filler tokens, once). Where decoding is bound by compute (a small model on a
    CPU: a pass over 12 tokens takes ~11 single-token passes), verifying proposals costs
    more than it saves; where it is bound by memory bandwidth or runs on a GPU, a batch costs
    little more than one token, and prompt lookup pays."""

    STEP = 512
    #: a pass over the largest probe batch must cost at most this many single-token passes
    PAYS_AT_MOST = PROBE_BATCHES[-1] / 2

    def __init__(self):
        self.exact_to = 0  # checked exact for caches up to this many tokens
        self.inexact_from: int | None = None  # checked not exact from this many tokens on
        self.batch_cost: float | None = None  # the first check's largest batch, in single passes

    @property
    def pays(self) -> bool:
        return self.batch_cost is not None and self.batch_cost <= self.PAYS_AT_MOST

    def exact_to_for(self, llm, prompt: list[int], need_pay: bool = True) -> int:
        """How long the cache may grow while a request on ``prompt`` verifies proposals
        exactly (0: not at all, or not worth it when ``need_pay``), checking what was not
        checked yet. The far check is at twice the prompt (an edit's answer is about as long
        as its code), rounded up to ``STEP``. The cache is left as it was for ``prompt``, so
        that the prompt is evaluated as plain decoding would evaluate it."""
        probe = [int(t) for t in prompt[: sum(PROBE_BATCHES)]]
        if len(probe) < 2:
            return 0
        near = len(prompt) + len(probe)
        far = min(llm.n_ctx(), -(-2 * len(prompt) // self.STEP) * self.STEP)
        keep = _common(llm, prompt)
        checked = False
        for length in (near, far):  # a cheap check at the prompt's end first
            if (length <= self.exact_to or (self.inexact_from is not None and length >= self.inexact_from)
                    or (need_pay and self.batch_cost is not None and not self.pays)):
                continue
            checked = True
            filler = (list(prompt) * (length // len(prompt) + 1))[: max(0, length - len(probe) - len(prompt))]
            exact, cost = batches_exact(llm, list(prompt) + filler, probe)
            self.batch_cost = cost if self.batch_cost is None else self.batch_cost
            if exact:
                self.exact_to = length
            else:
                self.inexact_from = length
        if checked:
            if not llm._ctx.kv_cache_seq_rm(-1, keep, -1):
                keep = 0
            llm.n_tokens, llm._requires_eval = keep, True  # the logits now are the probe's
        if need_pay and not self.pays:
            return 0
        return self.exact_to if self.exact_to > len(prompt) else 0


def _common(llm, tokens: list[int]) -> int:
    cached = llm.input_ids[: llm.n_tokens]
    n = min(len(cached), len(tokens))
    if n == 0:
        return 0
    diff = np.nonzero(cached[:n] != np.asarray(tokens[:n], dtype=np.intc))[0]
    return int(diff[0]) if len(diff) else n


def _reusable(llm, prompt: list[int]) -> int:
    """Tokens of ``prompt`` whose KV cache is already there (at least one token is left to
    evaluate, for its logits)."""
    return min(_common(llm, prompt), len(prompt) - 1)


def generate(llm, prompt: list[int], sampler, draft, limit: int, figures: Figures | None = None,
             until: int | None = None) -> Iterator[int]:
    """The answer's tokens to ``prompt``, one at a time, at most ``limit`` of them proposed
    ahead; ``sampler`` is ``llm._init_sampler(...)``'s chain, ``draft`` maps the tokens so far
    to proposed next tokens. Proposals stop where the cache reaches ``until`` tokens (where
    batches stop being exact); from there on a token is evaluated alone, as in plain
    decoding. Leaves ``llm``'s cache and ``n_tokens`` consistent wherever the consumer stops."""
    figures = figures if figures is not None else Figures()
    n_ctx, n_batch, ctx = llm.n_ctx(), llm.n_batch, llm._ctx
    n_past = _reusable(llm, prompt)
    if n_past == 0 or not ctx.kv_cache_seq_rm(-1, n_past, -1):
        n_past = 0
    llm.n_tokens = valid = n_past
    llm._requires_eval = True
    pending = list(prompt[n_past:])
    produced = 0
    try:
        while len(pending) > n_batch:  # the prompt, but for its last batch: no logits wanted
            _decode(llm, pending[:n_batch], n_past, logits_from=n_batch)
            n_past += n_batch
            llm.n_tokens = valid = n_past
            pending = pending[n_batch:]
        proposal: list[int] = []
        while True:
            batch = pending + proposal
            _decode(llm, batch, n_past, logits_from=len(pending) - 1)
            figures.passes += 1
            figures.drafted += len(proposal)
            index = len(pending) - 1  # the batch position whose logits give the next token
            while True:
                token = sampler.sample(ctx, index)
                produced += 1
                valid = n_past + index + 1  # the batch up to ``index`` is the answer so far
                llm.n_tokens = valid
                yield token
                following = index + 1
                if following < len(batch) and batch[following] == token:
                    figures.accepted += 1
                    index = following
                    continue
                break
            accepted = getattr(draft, "accepted", None)
            if accepted is not None and proposal:
                accepted(index - (len(pending) - 1))
            n_past = valid
            llm.input_ids[n_past] = token
            # a batch also gives one token of its own
            room = min(limit - produced - 1, (until or n_ctx) - n_past - 1)
            proposal = [int(t) for t in draft(llm.input_ids[: n_past + 1])[: max(0, room)]]
            pending = [token]
    finally:
        # tokens evaluated beyond the answer so far (rejected proposals) leave the cache
        if not ctx.kv_cache_seq_rm(-1, valid, -1):
            valid = 0
        llm.n_tokens = valid
        llm._requires_eval = True
