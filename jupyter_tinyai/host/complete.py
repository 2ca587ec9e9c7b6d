"""The host's completion endpoint: code completions beside the queue, on the completion lane.

    POST /tinyai/complete  {"id", "prefix", "suffix", "extra": [{"label", "text"}], "model",
                            "language", "max_tokens", "max_lines", "time_budget", "session",
                            "settings": {…, "completion_model"}}
        SSE: chunk…, done | error
    POST /v1/completions   OpenAI's completions with "suffix" (fill-in-the-middle), on the same lane

A completion never waits in the host's queue behind a chat answer: it runs at once on the
engine's completion lane (a llama.cpp context of its own), and a new request of the same
``session`` ends the one in progress. A bad request is a 400 before the stream starts.
"""

from __future__ import annotations

import json
import time
import uuid

from .. import errors, models
from ..choice import LOAD_SETTINGS
from ..completion.lane import CompletionRequest, check_request
from ..completion.wire import complete_kwargs
from ..config import TinyAI
from ..validation import field
from .handler import Handler, emit_chunks
from .protocol import BadRequest, error_body


def finding_settings(values, base: dict, engine_settings) -> TinyAI:
    """The settings that find a request's completion model: its client's (``values``, as
    :func:`~jupyter_tinyai.choice.settings_body` sends them, plus ``completion_model``), the
    host's own for those it did not send. The engine's settings are left as they are."""
    if not isinstance(values, dict):
        raise BadRequest("'settings' must be a JSON object.")
    settings = TinyAI()
    for name in LOAD_SETTINGS:
        value = values[name] if values.get(name) is not None else base[name]
        try:
            setattr(settings, name, value)
        except Exception as exc:  # noqa: BLE001 - traitlets' TraitError and friends
            raise BadRequest(f"bad value for setting {name!r}: {exc}") from None
    chosen = values.get("completion_model")
    if chosen is not None and not isinstance(chosen, str):
        raise BadRequest("'completion_model' must be text.")
    settings.completion_model = chosen if chosen is not None else engine_settings.completion_model
    return settings


def handle_complete(h: Handler) -> None:
    data = h.body()
    engine = h.state.engine
    request = check_request(CompletionRequest(**complete_kwargs(data)), engine.settings)
    finding = finding_settings(data.get("settings") or {}, h.state.base, engine.settings)
    if request.model:  # an unknown name is a 404 at the door, not an error in the stream
        models.resolve(request.model, finding)
    req = h.state.register(field(data, "id", str), "complete")
    h.state.scheduler.touch()  # typing is activity: the model stays loaded

    def run(emit):
        stream = engine.completion.complete(request, req.cancel, finding)
        emit_chunks(emit, stream)

    h.stream(req, run, queued=False)


def _openai_prompt(data: dict) -> str:
    prompt = data.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise BadRequest("'prompt' must be one string (the code before the cursor): one completion per request.")
    return prompt


def handle_v1_completions(h: Handler) -> None:
    """OpenAI's ``POST /v1/completions`` with ``suffix`` (fill-in-the-middle), ``stream`` true
    or false, served by the completion lane like ``/tinyai/complete``."""
    data = h.body()
    engine = h.state.engine
    model = field(data, "model", str, "")
    model = None if model.lower() in ("", "default", "tinyai") else model
    kwargs = complete_kwargs({
        "prefix": _openai_prompt(data), "suffix": data.get("suffix") or "", "model": model,
        "max_tokens": data.get("max_tokens"), "time_budget": data.get("time_budget"),
        "session": "openai:" + (field(data, "user", str) or ""),
    })
    request = check_request(CompletionRequest(**kwargs), engine.settings)
    finding = finding_settings({}, h.state.base, engine.settings)
    if request.model:
        models.resolve(request.model, finding)
    stream = bool(field(data, "stream", bool, False))
    rid = "cmpl-" + uuid.uuid4().hex
    created = int(time.time())
    req = h.state.register(rid, "v1")
    h.state.scheduler.touch()

    def reply(text: str, stats, reason=None) -> dict:
        body = {"id": rid, "object": "text_completion", "created": created,
                "model": (stats.model if stats is not None and stats.model else model or ""),
                "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": reason}]}
        if stats is not None:
            usage = {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.generated_tokens}
            body["usage"] = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
        return body

    def finish_reason(stats) -> str:
        return "length" if stats is not None and stats.finish_reason == "length" else "stop"

    if not stream:
        parts, stats = [], None
        try:
            with h.watching(req.cancel):  # a client that leaves cancels it
                for chunk in engine.completion.complete(request, req.cancel, finding):
                    parts.append(chunk.text)
                    stats = chunk.stats or stats
        finally:
            h.state.forget(req)
        h.reply(200, reply("".join(parts), stats, finish_reason(stats)))  # to a client that left: a broken pipe
        return

    def run(emit):
        for chunk in engine.completion.complete(request, req.cancel, finding):
            if chunk.text:
                emit("chunk", reply(chunk.text, None))
            if chunk.stats is not None:
                emit("chunk", reply("", chunk.stats, finish_reason(chunk.stats)))
        emit("done", {})

    def event(name, payload):
        if name == "error":
            return f"data: {json.dumps(error_body(errors.from_dict(payload)))}\n\n".encode()
        if name == "done":
            return b"data: [DONE]\n\n"
        return f"data: {json.dumps(payload)}\n\n".encode()

    h.stream(req, run, event, queued=False)
