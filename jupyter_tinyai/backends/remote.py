"""A model on a remote OpenAI-compatible inference server (``c.TinyAI.remotes``, see
:mod:`jupyter_tinyai.remotes`): answers streamed from ``<url>/chat/completions``, token counts
from the server's tokenize endpoint when it has one, estimated otherwise.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Iterator

from .. import sse
from ..errors import GenerationError, ModelNotFound, RemoteError, TinyAIError
from ..remotes.config import Remote
from ..remotes.connection import Connection, reason
from ..remotes.endpoints import entry_id, find_tokenizer, list_server_models, tokenize
from ..types import Chunk, GenerationParams, Message, ProgressCallback, Stats
from .base import Backend, placement_text

TEMPLATE_TOKENS_PER_MESSAGE = 4  # role markers a chat template adds around each message
ESTIMATED_NOTICE = "token counts are estimated: remote {name!r} has no tokenize endpoint."


class RemoteBackend(Backend):
    """Streams answers from ``<url>/chat/completions`` (SSE); cancel closes the stream."""

    name = "remote"

    def __init__(self, spec, settings):
        super().__init__(spec, settings)
        self.remote = Remote.from_extra(spec.extra)
        self.model_name = spec.name
        self._tokenizer: tuple | None = None
        self._count_cache: dict = {}
        self._loaded = False

    def estimate_bytes(self) -> int:
        return 0  # the model's memory is on the server

    def placement(self) -> str:
        return placement_text(f"remote {self.remote.name}")

    def load(self, progress: ProgressCallback | None = None) -> None:
        if progress:
            progress(0.0, f"connecting to remote {self.remote.name!r}")
        served = [entry_id(e) for e in list_server_models(self.remote)]
        if self.model_name not in served:
            raise ModelNotFound(
                f"remote {self.remote.name!r} ({self.remote.url}) has no model {self.model_name!r}; it serves: "
                f"{', '.join(served[:12]) or 'nothing'}. Run `jupyter tinyai models` to see them."
            )
        self._tokenizer = find_tokenizer(self.remote, self.model_name)
        self._loaded = True
        if progress:
            progress(1.0, f"using {self.model_name} on remote {self.remote.name!r}")

    def unload(self) -> None:
        self._loaded = False
        self._count_cache.clear()

    @property
    def n_ctx(self) -> int:
        if self.remote.n_ctx:
            return self.remote.n_ctx
        trained = self.spec.context_length
        return min(self.settings.n_ctx, trained) if trained else self.settings.n_ctx

    @property
    def tokens_estimated(self) -> bool:
        return self._tokenizer is None

    # -- tokens -------------------------------------------------------------------------

    def count_text(self, text: str) -> int:
        """Tokens of plain ``text``: the server's tokenizer, else an estimate."""
        if self._tokenizer is not None:
            return tokenize(self.remote, self._tokenizer, self.model_name, text)
        return math.ceil(len(text.encode("utf-8")) / 3.5)

    def count_tokens(self, messages: list[Message]) -> int:
        # one request for the whole conversation; the chat template's markers are estimated
        text = _joined(messages)
        if text not in self._count_cache:
            if len(self._count_cache) > 64:
                self._count_cache.clear()
            self._count_cache[text] = self.count_text(text) + TEMPLATE_TOKENS_PER_MESSAGE * len(messages) + 2
        return self._count_cache[text]

    # -- generation ---------------------------------------------------------------------

    def _request(self, messages: list[Message], params: GenerationParams) -> dict:
        body = {
            "model": self.model_name,
            "messages": [m.to_dict() for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if not params.thinking:  # llama.cpp's server and vLLM pass it to the chat template
            body["chat_template_kwargs"] = {"enable_thinking": False}
        return body

    def stream(self, messages: list[Message], params: GenerationParams, cancel: threading.Event) -> Iterator[Chunk]:
        """The server's answer, at most ``params.max_tokens`` deltas (a server that ignores
        the limit, or streams forever, is cut off: finish "length"); each event must come
        within the remote's timeout."""
        if not self._loaded:
            raise GenerationError("no model is loaded.")
        start = time.perf_counter()
        conn = Connection(self.remote, cancel=cancel)
        try:
            response = conn.open("POST", self.remote.url + "/chat/completions", self._request(messages, params))
            conn.check(response, "chat", self.model_name)
        except TinyAIError:
            if not cancel.is_set():
                raise
            yield Chunk(stats=self._stats(messages, "", 0, None, start, None, time.perf_counter(), "cancelled"))
            return
        answer: list[str] = []
        deltas, events, first_at, finish, usage, broken, over = 0, 0, None, "stop", None, None, False
        most_events = 2 * params.max_tokens + 32  # role, usage and empty deltas besides the text
        stream = sse.events(iter(response.readline, b""), extra_fields=("error",))
        try:
            while True:
                conn.wait(self.remote.timeout)
                event = next(stream, None)
                conn.wait(None)  # no deadline while the chunk is handled downstream
                if conn.expired:
                    raise TimeoutError
                if event is None:
                    if not cancel.is_set():
                        broken = "the server closed the connection before the end of the answer"
                    break
                name, text = event
                if name != "error" and text == "[DONE]":
                    break
                events += 1
                if events > most_events:
                    over = True  # a server that streams forever without text
                    break
                data = {"error": text} if name == "error" else _parse_event(text)  # llama.cpp: "error: …" lines
                if data is None:
                    continue
                if data.get("error"):
                    broken = f"the server reported an error mid-answer: {self.remote.scrub(_event_error(data['error']))}"
                    break
                if isinstance(data.get("usage"), dict):
                    usage = data["usage"]
                for choice in data.get("choices") or []:
                    delta = choice.get("delta") or {}
                    text = delta.get("content") or ""
                    # the server's own split of the reasoning (llama.cpp, vLLM: reasoning_content;
                    # Ollama, gpt-oss on vLLM: reasoning); <think> in content is split by the engine
                    thought = delta.get("reasoning_content") or delta.get("reasoning") or ""
                    thought = thought if isinstance(thought, str) else ""
                    if (text or thought) and deltas >= params.max_tokens:
                        over = True  # a server that ignores max_tokens, or never ends: cut off
                        break
                    if thought:
                        if first_at is None:
                            first_at = time.perf_counter()
                        deltas += 1
                        yield Chunk(reasoning=thought)
                    if text:
                        if first_at is None:
                            first_at = time.perf_counter()
                        deltas += 1
                        answer.append(text)
                        yield Chunk(text=text)
                    if choice.get("finish_reason"):
                        finish = "length" if choice["finish_reason"] == "length" else "stop"
                if cancel.is_set() or over:
                    break
        except TimeoutError:
            broken = f"no data from the server for {self.remote.timeout:g} s"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            broken = (f"no data from the server for {self.remote.timeout:g} s" if conn.expired
                      else f"the connection broke ({self.remote.scrub(reason(exc))})")
        finally:
            conn.close()
        end = time.perf_counter()
        if over:
            finish = "length"
        if cancel.is_set():
            finish, broken = "cancelled", None
        if broken:
            message = (
                f"remote {self.remote.name!r} ({self.remote.url}): {broken}. Check that the server is still "
                f"running and reachable; raise 'timeout' in c.TinyAI.remotes[{self.remote.name!r}] if it is slow."
            )
            if not answer:
                raise RemoteError(message)
            finish = "error"
            yield Chunk(notice=message + " The partial answer above is kept.")
        stats = self._stats(messages, "".join(answer), deltas, usage, start, first_at, end, finish, ask=not broken)
        if self.tokens_estimated and not usage:
            yield Chunk(notice=ESTIMATED_NOTICE.format(name=self.remote.name), stats=stats)
        else:
            yield Chunk(stats=stats)

    def _stats(self, messages, answer, deltas, usage, start, first_at, end, finish, ask=True) -> Stats:
        """The figures of an answer: the server's usage, else its tokenizer (not when ``ask``
        is False: a server that just failed would cost another timeout), else estimates."""
        prompt_tokens = generated = cached = 0
        if usage:
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            generated = int(usage.get("completion_tokens") or 0)
            details = usage.get("prompt_tokens_details") or {}
            cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
        estimate = math.ceil(sum(len(m.content) for m in messages) / 3.5)
        if not prompt_tokens:
            try:
                prompt_tokens = self.count_tokens(messages) if ask else self._count_cache.get(_joined(messages), estimate)
            except TinyAIError:  # the server went away: the estimate will do
                prompt_tokens = estimate
        if not generated and answer:
            try:
                generated = self.count_text(answer) if self._tokenizer and ask else deltas
            except TinyAIError:
                generated = deltas  # servers send about one token per delta
        return self.timed_stats(
            start=start, first_at=first_at, end=end, prompt_tokens=prompt_tokens,
            generated=generated, cached=cached, finish=finish,
        )


def _joined(messages: list[Message]) -> str:
    return "\n".join(f"{m.role}\n{m.content}" for m in messages)


def _parse_event(event: str) -> dict | None:
    try:
        data = json.loads(event)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _event_error(error) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)[:200]
    return str(error)[:200]
