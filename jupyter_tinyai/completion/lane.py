"""The completion lane: code completions beside the chat, fast enough to keep up with typing.

- **Its own KV cache.** A completion runs on a second llama.cpp context of the chat's loaded
  model when the completion model is the chat model (the weights are shared), else on a model
  the lane loads itself. A chat answer streaming on the main context never delays it.
- **Stale requests end at once.** A new request of a session cancels that session's request
  in progress (seen between two tokens, or two batches of the prompt) and any queued one.
- **Only the changed tail is evaluated.** The context keeps the tokens of the last prompt;
  the next prompt shares all but its tail (see :mod:`.formats` for why the layout allows it),
  and only the tail is decoded again.
- **Recent completions are cached**, and served as the user types into them (:mod:`.memo`).
- **Extra context is pre-filled while idle.** New chunks (recently edited cells) join the ring
  at the head of the prompt only when the lane is idle (or cold), and the last prompt is then
  evaluated again with them, so the next keystroke finds them cached.
- **A hard time budget.** Generation stops when the request's time is up: a shorter
  suggestion beats a late one. Stop rules end it earlier (:mod:`.stops`).

One worker thread serves the requests one at a time and pre-fills in between; a request's
caller reads its chunks from a queue, so a slow reader never holds the model.

    lane = CompletionLane(settings)
    for chunk in lane.complete(CompletionRequest("def mean(xs):\\n    return ")):
        print(chunk.text, end="")
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ..errors import BackendUnavailable, EmptyPrompt, InvalidRequest
from ..types import Chunk, ContextPiece, Stats
from ..validation import check_max_tokens
from .budget import Limits, keep_end, keep_newest, keep_start
from .formats import detect
from .memo import Recent, Ring
from .stops import Stopper

#: seconds without a request before the lane pre-fills new extra context
IDLE_SECONDS = 0.5
#: most characters of prefix, suffix and extra context read per request (the rest is far from the cursor)
MAX_REQUEST_CHARS = 4_000_000
#: the prefix is first cut to a length in characters, its start moving in steps of this many
CHAR_STEP = 4096
#: characters per token assumed when cutting text before tokenizing it (generous: code is denser)
CHARS_PER_TOKEN = 12
#: the completion context's main context is not used: the smallest llama.cpp accepts
_OWN_MAIN_CTX = 256
#: longest a chat answer waits between two tokens for completions to finish
CHAT_WAITS_AT_MOST = 1.0


@dataclass
class CompletionRequest:
    """One completion: the code before and after the cursor, and what shapes the answer."""

    prefix: str
    suffix: str = ""
    extra: Sequence[ContextPiece] = ()
    model: str | None = None
    language: str = "python"
    max_tokens: int | None = None
    max_lines: int | None = None
    time_budget: float | None = None  # seconds
    session: str = "default"  # a new request cancels the same session's request in progress


def check_request(request: CompletionRequest, settings) -> CompletionRequest:
    """The request with its defaults filled in; InvalidRequest/EmptyPrompt with a one-line
    message for a bad one."""
    for name in ("prefix", "suffix"):
        if not isinstance(getattr(request, name), str):
            raise InvalidRequest(f"'{name}' must be text.")
    extra = [p if isinstance(p, ContextPiece) else ContextPiece(str(p.get("label", "")), str(p.get("text", "")))
             for p in (request.extra or ())]
    size = len(request.prefix) + len(request.suffix) + sum(len(p.text) for p in extra)
    if size > MAX_REQUEST_CHARS:
        raise InvalidRequest(
            f"the completion request has {size:,} characters of code; at most {MAX_REQUEST_CHARS:,} are read: "
            "send the code near the cursor."
        )
    if not request.prefix.strip():
        raise EmptyPrompt("nothing to complete: there is no code before the cursor. Type some code first.")
    max_tokens = check_max_tokens(request.max_tokens) or settings.completion_max_tokens
    max_lines = request.max_lines if request.max_lines is not None else settings.completion_max_lines
    if isinstance(max_lines, bool) or not isinstance(max_lines, int) or not 1 <= max_lines <= 1000:
        raise InvalidRequest(f"'max_lines' must be a whole number from 1 to 1000, not {max_lines!r}.")
    budget = request.time_budget if request.time_budget is not None else settings.completion_time_budget
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget <= 600:
        raise InvalidRequest(f"'time_budget' must be a number of seconds above 0 and at most 600, not {budget!r}.")
    return dataclasses.replace(request, extra=extra, max_tokens=max_tokens, max_lines=max_lines,
                               time_budget=float(budget), language=request.language or "python")


@dataclass
class _Job:
    request: CompletionRequest
    cancel: threading.Event
    started: float
    out: queue.Queue = field(default_factory=queue.Queue)
    ready: float = 0.0  # when the model was ready for it
    finding: object = None  # the settings that find its model


_DONE = object()


@dataclass
class _Context:
    """The llama.cpp context completions run on, and how prompts for its model are made."""

    side: object  # backends.llamacpp_side.SideContext
    format: object  # formats.FimFormat | formats.ChatFormat
    model_id: str
    path: str
    backend: object  # the backend whose model it uses
    borrowed: bool  # the chat engine's backend (else the lane's own)


class CompletionLane:
    """Completions for one engine. ``loaded`` returns the chat engine's loaded backend (whose
    model is borrowed when it is the completion model); ``reuse=False`` turns off every reuse
    (KV cache, completion cache, pre-fill) for measuring what it saves."""

    def __init__(self, settings, loaded: Callable[[], object] = lambda: None, *, reuse: bool = True):
        self.settings = settings
        self.reuse = reuse
        self._loaded = loaded
        self.recent = Recent()
        self.ring = Ring()
        self._jobs: queue.Queue = queue.Queue()
        self._running: dict[str, _Job] = {}  # session -> its job in progress or queued
        self._lock = threading.Lock()  # guards _running, _worker, _context
        self._worker: threading.Thread | None = None
        self._context: _Context | None = None
        self._own = None  # a backend the lane loaded itself
        self._names: dict = {}  # requested name -> resolved spec
        self._last: CompletionRequest | None = None  # what pre-fill evaluates again
        self._prefill_cancel = threading.Event()
        self._idle = threading.Event()  # set when nothing is queued, served or due to pre-fill
        self._idle.set()
        self._queued = 0
        self._closed = False
        self.requests = 0  # figures for status and benchmarks
        self.prefilled_tokens = 0
        self._active = 0  # completions evaluating or generating now (the chat steps aside)
        self._active_changed = threading.Condition()

    # -- requests -----------------------------------------------------------------------

    def complete(self, request: CompletionRequest, cancel: threading.Event | None = None,
                 finding=None) -> Iterator[Chunk]:
        """Stream the completion of ``request``: text chunks, then a last chunk with stats.
        ``finding``: the settings that decide which model a name means (a host client's own;
        default: the lane's)."""
        started = time.perf_counter()
        request = check_request(request, self.settings)
        job = _Job(request, cancel or threading.Event(), started, finding=finding or self.settings)
        self._cancel_session(request.session, job)
        if request.extra:
            self.ring.offer(request.extra)
        hit = self.recent.get(self._cache_model(request), request.prefix, request.suffix) if self.reuse else None
        if hit is not None:
            with self._lock:
                if self._running.get(request.session) is job:
                    del self._running[request.session]
            now = time.perf_counter()
            yield Chunk(text=hit)
            context = self._context
            model = context.model_id if context is not None else self._cache_model(request)
            yield Chunk(stats=Stats(model=model, backend="llamacpp", ttft_s=now - started,
                                    total_s=time.perf_counter() - started, finish_reason="cached"))
            return
        self._submit(job)
        finished = False
        try:
            while True:
                item = job.out.get()
                if item is _DONE:
                    finished = True
                    return
                if isinstance(item, BaseException):
                    finished = True
                    raise item
                yield item
        finally:
            if not finished:
                job.cancel.set()  # a reader that stops early ends the generation

    def _cancel_session(self, session: str, job: _Job) -> None:
        """Cancel ``session``'s request in progress and mark ``job`` as its current one."""
        with self._lock:
            if self._closed:
                raise BackendUnavailable("the completion lane is closed.")
            stale = self._running.get(session)
            if stale is not None:
                stale.cancel.set()
            self._running[session] = job
            self._prefill_cancel.set()

    def _submit(self, job: _Job) -> None:
        with self._lock:
            self._queued += 1
            self._idle.clear()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="tinyai-completion", daemon=True)
                self._worker.start()
        self._jobs.put(job)

    def _set_idle(self, prefill_due: bool) -> None:
        with self._lock:
            if not self._queued and not prefill_due:
                self._idle.set()

    def _cache_model(self, request: CompletionRequest) -> str:
        return request.model or getattr(self.settings, "completion_model", "") or ""

    # -- the worker ---------------------------------------------------------------------

    def _work(self) -> None:
        prefill_due = False
        while not self._closed:
            try:
                job = self._jobs.get(timeout=IDLE_SECONDS if prefill_due else None)
            except queue.Empty:
                prefill_due = False
                self._prefill()
                self._set_idle(False)
                continue
            if job is None:
                break
            try:
                self._serve(job)
            finally:
                with self._lock:
                    self._queued -= 1
                    if self._running.get(job.request.session) is job:
                        del self._running[job.request.session]
                prefill_due = self.reuse and bool(self.ring.pending)
                self._set_idle(prefill_due)

    def _serve(self, job: _Job) -> None:
        if job.cancel.is_set():  # superseded while it waited
            job.out.put(Chunk(stats=Stats(finish_reason="cancelled")))
            job.out.put(_DONE)
            return
        try:
            self.requests += 1
            for chunk in self._generate(job):
                job.out.put(chunk)
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, who raises it
            job.out.put(exc)
        job.out.put(_DONE)

    def _generate(self, job: _Job) -> Iterator[Chunk]:
        from ..backends.llamacpp_side import Cancelled

        request = job.request
        context = self._context_for(request.model, job.finding)
        job.ready = time.perf_counter()  # loading a model is not counted in the time budget
        if context.side.closed:  # the chat engine unloaded the model just now: take it again
            context = self._context_for(request.model, job.finding)
        side = context.side
        with side.lock, self._running_now():
            if side.closed:
                raise BackendUnavailable("the completion model was unloaded while starting; ask again.")
            if not self.reuse:
                side.clear()
            if not side.tokens:
                self.ring.update()  # nothing cached to keep: new chunks join now
            tokens = self._prompt(context, request)
            tokens, healed = _heal(tokens, side.vocab)
            stats = Stats(model=context.model_id, backend="llamacpp", prompt_tokens=len(tokens))
            try:
                stats.cached_tokens = side.evaluate(tokens, job.cancel)
            except Cancelled:
                stats.finish_reason, stats.total_s = "cancelled", time.perf_counter() - job.started
                yield Chunk(stats=stats)
                return
            self._last = request
            yield from self._decode(job, context, stats, healed)

    def _decode(self, job: _Job, context: _Context, stats: Stats, healed: bytes) -> Iterator[Chunk]:
        request, side, vocab = job.request, context.side, context.side.vocab
        stopper = Stopper(request.prefix, request.suffix, max_lines=request.max_lines,
                          stop_texts=context.format.stop_texts)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # the budget counts from the request (or from the model being ready, after a load); past
        # it, generation stops once something is shown, or at twice the budget at the latest
        deadline = max(job.started, job.ready) + request.time_budget
        shown: list[str] = []
        first_at = None
        finish = "stop"
        while True:
            if job.cancel.is_set() or side.closing.is_set():
                finish = "cancelled"
                break
            token = side.greedy(vocab.starting_with(healed) if healed else None)
            if vocab.is_end(token):
                break
            stats.generated_tokens += 1
            piece = vocab.piece(token)
            if healed:  # the first token re-types the prompt's last one: only the rest is new
                piece, healed = piece[len(healed) :], b""
            text = stopper.feed(decoder.decode(piece))
            if text:
                first_at = first_at or time.perf_counter()
                shown.append(text)
                yield Chunk(text=text)
            if stopper.done:
                break
            if stats.generated_tokens >= request.max_tokens:
                finish = "length"
                break
            now = time.perf_counter()
            if now >= deadline and (shown or now >= deadline + request.time_budget):
                finish = "time"
                break
            side.accept(token)
        if finish != "cancelled":
            text = stopper.finish()
            if text:
                first_at = first_at or time.perf_counter()
                shown.append(text)
                yield Chunk(text=text)
        end = time.perf_counter()
        stats.finish_reason = finish
        stats.ttft_s = (first_at or end) - job.started
        stats.total_s = end - job.started
        if first_at is not None and stats.generated_tokens > 1 and end > first_at:
            stats.tokens_per_s = (stats.generated_tokens - 1) / (end - first_at)
        if finish != "cancelled" and self.reuse:
            self.recent.put(self._cache_model(request), request.prefix, request.suffix, "".join(shown))
        yield Chunk(stats=stats)

    def _prompt(self, context: _Context, request: CompletionRequest) -> list[int]:
        """The prompt's tokens, each part cut to its share of the context."""
        vocab, side = context.side.vocab, context.side

        def count(text: str) -> int:
            return len(vocab.tokenize(text))

        limits = Limits.of(side.n_ctx, request.max_tokens)
        chars = limits.prompt * CHARS_PER_TOKEN
        prefix = _chars_end(request.prefix, chars)
        suffix = keep_start(request.suffix[:chars], limits.suffix, count)
        around = prefix + suffix
        extra = keep_newest([p for p in self.ring.chunks if p.text not in around], limits.extra, count)
        used = count(suffix) + sum(count(p.label + p.text) + 4 for p in extra)
        prefix = keep_end(prefix, limits.prompt - used, count)
        tokens = context.format.tokens(vocab, prefix=prefix, suffix=suffix, extra=extra, language=request.language)
        room = side.n_ctx - request.max_tokens
        if len(tokens) > room:  # the prompt's own words took more than RESERVED: drop the extra
            prefix = keep_end(prefix, limits.prompt - count(suffix) - (len(tokens) - room), count)
            tokens = context.format.tokens(vocab, prefix=prefix, suffix=suffix, language=request.language)
        if len(tokens) > room:
            raise InvalidRequest(
                f"the completion prompt needs {len(tokens)} tokens and the completion context has room for {room}: "
                "raise c.TinyAI.completion_n_ctx or lower the completion's max_tokens."
            )
        return tokens

    def prompt_tokens(self, request: CompletionRequest) -> list[int]:
        """The tokens ``request`` would be evaluated with now, assembled but not evaluated
        (with ``reuse=False``: every extra chunk in, as a fresh prompt has them)."""
        request = check_request(request, self.settings)
        context = self._context_for(request.model, self.settings)
        with context.side.lock:
            if not self.reuse:
                self.ring.offer(request.extra)
                self.ring.update()
            return _heal(self._prompt(context, request), context.side.vocab)[0]

    def step_aside(self) -> None:
        """Called by a chat answer between two tokens: wait while a completion is evaluating
        or generating (at most CHAT_WAITS_AT_MOST seconds). Both would run at once otherwise,
        and on a laptop the chat's threads already take every core but one: the suggestion
        would come late, and both would slow down."""
        with self._active_changed:
            if self._active:
                self._active_changed.wait_for(lambda: not self._active, timeout=CHAT_WAITS_AT_MOST)

    @contextlib.contextmanager
    def _running_now(self):
        with self._active_changed:
            self._active += 1
        try:
            yield
        finally:
            with self._active_changed:
                self._active -= 1
                self._active_changed.notify_all()

    # -- pre-fill while idle --------------------------------------------------------------

    def _prefill(self) -> None:
        """Move new extra chunks into the ring and evaluate the last prompt again with them."""
        from ..backends.llamacpp_side import Cancelled

        request, context = self._last, self._context
        if not self.reuse or request is None or context is None or not self.ring.pending:
            return
        self._prefill_cancel.clear()
        if not self._jobs.empty():
            return
        side = context.side
        with side.lock:
            if side.closed or not self.ring.update():
                return
            tokens = self._prompt(context, request)
            before = side.evaluated
            try:
                side.evaluate(tokens, self._prefill_cancel)
            except Cancelled:
                pass
            self.prefilled_tokens += side.evaluated - before

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no request is being served and nothing waits to be pre-filled."""
        return self._idle.wait(timeout)

    # -- the model ----------------------------------------------------------------------

    def _context_for(self, requested: str | None, finding) -> _Context:
        """The context for the completion model of a request: the chat model's own when it is
        loaded, else one on a model the lane loads."""
        spec = self._spec(requested, finding)
        current = self._context
        loaded = self._loaded()
        borrowable = (
            loaded is not None and getattr(loaded, "side_context", None) is not None
            and getattr(loaded.spec, "path", None) == spec.path and loaded.is_loaded
        )
        if (current is not None and current.path == spec.path and not current.side.closed
                and (current.borrowed or not borrowable)):
            return current
        if borrowable:
            backend, borrowed = loaded, True
        else:
            backend, borrowed = self._own_backend(spec, finding), False
        side = backend.side_context(self.settings.completion_n_ctx)
        context = _Context(side, self._format(side), backend.spec.id, spec.path, backend, borrowed)
        with self._lock:
            self._context = context
        if borrowed and self._own is not None:  # the chat engine has it now: free the lane's copy
            own, self._own = self._own, None
            own.unload()
        return context

    def _spec(self, requested: str | None, finding):
        from .. import models
        from ..choice import choose
        from .choose import completion_model

        key = (requested or "", getattr(finding, "completion_model", ""), choose(None, finding))
        spec = self._names.get(key)
        if spec is None:
            spec = models.resolve(completion_model(requested, finding), finding)
            if spec.format != "gguf":
                raise BackendUnavailable(
                    f"completion runs GGUF models with llama.cpp, and {spec.id} is a {spec.format} model: "
                    "set c.TinyAI.completion_model to a GGUF model (`jupyter tinyai models` lists them)."
                )
            self._names[key] = spec
        return spec

    def _own_backend(self, spec, finding):
        from ..backends.llamacpp import LlamaCppBackend
        from ..choice import choose
        from ..memory import check_fits

        own = self._own
        if own is not None and own.spec.path == spec.path and own.is_loaded:
            return own
        settings = dataclasses.replace(choose(spec.path, finding).load_settings(), n_ctx=_OWN_MAIN_CTX, adapter=None)
        if spec.backend != "llamacpp":  # a GGUF that MLX runs for the chat: llama.cpp completes
            spec = dataclasses.replace(spec, backend="llamacpp", id=f"llamacpp:{spec.name}")
        backend = LlamaCppBackend(spec, settings)
        self.unload()
        check_fits(backend, self.settings.memory_headroom_mb, 0)
        backend.load()
        self._own = backend
        return backend

    @staticmethod
    def _format(side):
        return detect(side.vocab, side.template, side.bos_text, side.eos_text)

    # -- status and shutdown ------------------------------------------------------------

    def status(self) -> dict:
        context = self._context
        return {
            "model": context.model_id if context else None,
            "format": context.format.name if context else None,
            "shares_chat_model": context.borrowed if context else None,
            "n_ctx": context.side.n_ctx if context and not context.side.closed else None,
            "requests": self.requests,
            "ring_chunks": len(self.ring.chunks),
        }

    def unload(self) -> None:
        """Free the model the lane loaded itself (a borrowed one stays with the chat engine)."""
        with self._lock:
            own, self._own = self._own, None
            if self._context is not None and self._context.backend is own:
                self._context = None
        if own is not None:
            own.unload()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for job in self._running.values():
                job.cancel.set()
        self._prefill_cancel.set()
        self._jobs.put(None)
        self.unload()


def _heal(tokens: list[int], vocab) -> tuple[list[int], bytes]:
    """Token healing: the prompt without its last token when that is the user's text (``ret``
    of a ``return`` being typed), and that token's bytes, which the first generated token
    must start with. Without it, a model that sees ``ret`` as a token of its own continues
    with `` = 0`` (measured with SmolLM2); with it, the first token may be ``return``."""
    last = tokens[-1]
    if len(tokens) < 2 or vocab.is_control(last):
        return tokens, b""
    data = vocab.piece(last)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:  # part of a character: leave it
        return tokens, b""
    return (tokens[:-1], data) if data else (tokens, b"")


def _chars_end(text: str, limit: int) -> str:
    """The end of ``text`` within ``limit`` characters, cut at a line start; the cut moves in
    steps of CHAR_STEP so it stays put while the user types."""
    if len(text) <= limit:
        return text
    cut = ((len(text) - limit) // CHAR_STEP + 1) * CHAR_STEP
    newline = text.find("\n", cut)
    return text[newline + 1 :] if newline >= 0 else text[-limit:]
