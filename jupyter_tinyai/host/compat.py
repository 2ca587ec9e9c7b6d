"""OpenAI-compatible endpoints of the host: ``GET /v1/models`` and
``POST /v1/chat/completions`` (``stream`` true or false), so an OpenAI client, LangChain or
jupyter-ai can use the resident model (``jupyter tinyai serve --port N``).

A request carries its whole history in ``messages``; it becomes the history of the host
conversation ``openai:<user>``, whose KV cache is reused by prefix.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

from .. import errors
from ..scheduler import Cancelled
from ..types import Message
from ..validation import chat_request, field
from .protocol import BadRequest, error_body, message_text

if TYPE_CHECKING:  # pragma: no cover
    from .handler import Handler


def handle_v1_models(h: Handler) -> None:
    engine = h.state.engine
    loaded = engine.model
    specs = engine.list_models()
    data = [
        {"id": m.id, "object": "model", "created": int(h.state.started), "owned_by": m.source or "local",
         "loaded": bool(loaded and loaded.id == m.id)}
        for m in specs
        if not m.warning
    ]
    h.reply(200, {"object": "list", "data": data})


def _openai_event(name: str, data) -> bytes:
    if name == "queue":  # an SSE comment: OpenAI clients skip it
        return f": {data['position']} request(s) ahead in the queue\n\n".encode()
    return f"data: {json.dumps(data)}\n\n".encode()


def handle_v1_chat(h: Handler) -> None:
    data = h.body()
    messages = field(data, "messages", list, required=True)
    if not messages or not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        raise BadRequest("'messages' must be a non-empty list of objects with a 'role'.")
    system = "\n\n".join(message_text(m.get("content", "")) for m in messages if m["role"] in ("system", "developer")) or None
    turns = [Message(m["role"], message_text(m.get("content", ""))) for m in messages if m["role"] in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise BadRequest("the last message must have the role 'user'.")
    model = field(data, "model", str, "")
    model = None if model.lower() in ("", "default", "tinyai") else model
    limit = data.get("max_completion_tokens")
    args = chat_request({"prompt": turns[-1].content, "system": system, "model": model, "seed": data.get("seed"),
                         "temperature": data.get("temperature"),
                         "max_tokens": data.get("max_tokens") if limit is None else limit},
                        h.state.engine.settings.n_ctx)  # before queueing
    kwargs = {"model": args.model, "system": args.system, "temperature": args.temperature,
              "max_tokens": args.max_tokens, "seed": args.seed}
    h.state.check_model(model)
    stream = bool(field(data, "stream", bool, False))
    cid = "openai:" + (field(data, "user", str) or "")
    rid = "chatcmpl-" + uuid.uuid4().hex
    created = int(time.time())
    state = h.state
    req = state.register(rid, "v1")

    def chunks():
        state.apply_settings({})  # the host's own settings: "default" is its configured model
        # the request carries its whole history: make it the conversation's, keeping the KV
        # cache (the backend reuses the prefix the new turns share with it)
        state.engine.set_history(cid, turns[:-1], keep_cache=True)
        gen = state.engine.chat(turns[-1].content, conversation=cid, cancel=req.cancel, **kwargs)
        try:
            yield from gen
        finally:
            gen.close()

    def finish(stats):
        reason = "length" if stats and stats.finish_reason == "length" else "stop"
        usage = {"prompt_tokens": stats.prompt_tokens if stats else 0,
                 "completion_tokens": stats.generated_tokens if stats else 0}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return reason, usage

    def model_id():
        return state.engine.model.id if state.engine.model else (model or "")

    if not stream:
        try:
            with h.watching(req.cancel), state.scheduler.turn(req):  # a client that leaves cancels it
                parts, thoughts, stats = [], [], None
                for chunk in chunks():
                    parts.append(chunk.text)
                    thoughts.append(chunk.reasoning)
                    stats = chunk.stats or stats
        except Cancelled:
            pass
        finally:
            state.forget(req)
        if req.cancel.is_set():  # the client is gone: no one to answer
            h.close_connection = True
            return
        reason, usage = finish(stats)
        message = {"role": "assistant", "content": "".join(parts)}
        if any(thoughts):  # the model's reasoning, apart, as llama.cpp's server and vLLM send it
            message["reasoning_content"] = "".join(thoughts)
        h.reply(200, {"id": rid, "object": "chat.completion", "created": created, "model": model_id(),
                      "choices": [{"index": 0, "message": message, "finish_reason": reason}], "usage": usage})
        return

    def run(emit):
        base = {"id": rid, "object": "chat.completion.chunk", "created": created}
        first = True

        def send(delta: dict, reason=None, **extra) -> None:
            nonlocal first
            if first and delta:  # the first delta names the role
                delta, first = {"role": "assistant", **delta}, False
            emit("chunk", {**base, "model": model_id(),
                           "choices": [{"index": 0, "delta": delta, "finish_reason": reason}], **extra})

        for chunk in chunks():
            if chunk.reasoning:
                send({"reasoning_content": chunk.reasoning})
            if chunk.text or first:
                send({"content": chunk.text})
            if chunk.stats is not None:
                reason, usage = finish(chunk.stats)
                send({}, reason, usage=usage)
        h.send(b"data: [DONE]\n\n")

    def event(name, payload):
        if name == "error":
            return _openai_event("error", error_body(errors.from_dict(payload)))
        if name == "done":
            return b"data: [DONE]\n\n"
        return _openai_event(name, payload)

    h.stream(req, run, event)
