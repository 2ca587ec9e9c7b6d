"""The host's endpoints (the OpenAI-compatible ones are in :mod:`.compat`):

    GET  /tinyai/ping                 {"pid", "version"}
    GET  /tinyai/status               the engine's status plus a "host" section
    GET  /tinyai/model/events?after=N SSE: "model" events, each a snapshot of the loaded model
                                      (jupyter_tinyai.modelstate), the current one first
    GET  /tinyai/history?conversation=ID ; POST /tinyai/history {"conversation", "messages"}
    POST /tinyai/count_tokens {"text"}
    POST /tinyai/chat                 SSE: queue, progress, chunk…, done | error
    POST /tinyai/complete             SSE: chunk…, done | error (beside the queue: see :mod:`.complete`)
    POST /tinyai/edit                 {"code", "instruction"?, "error"?, "selection"?, …}: SSE as chat
    POST /tinyai/load                 SSE: queue, progress…, done {"model": spec} | error
    POST /tinyai/unload | /tinyai/reset {"conversation"} | /tinyai/cancel {"id"}
    POST /tinyai/listen {"port"}      also listen on 127.0.0.1:port; answers the token
    POST /tinyai/shutdown
    GET  /v1/models ; POST /v1/chat/completions (stream true or false) ; POST /v1/completions (suffix)

Requests that use the model go through the host's one :class:`~jupyter_tinyai.scheduler.Scheduler`:
one at a time, in order; completions alone run beside it, on the completion lane.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

from .. import edits
from .._version import __version__
from ..prompts import check_prompt_size
from ..types import Message
from ..validation import chat_request, check_settings, field, generation
from .compat import handle_v1_chat, handle_v1_models
from .complete import handle_complete, handle_v1_completions
from .handler import Handler, emit_chunks
from .listeners import listen_tcp
from .protocol import BadRequest


def handle_chat(h: Handler) -> None:
    data = h.body()
    args = chat_request(data, h.state.engine.settings.n_ctx)
    h.state.check_model(args.model, files_only=True)
    kwargs = {**args.kwargs(), "conversation": args.conversation or "default"}
    req = h.state.register(field(data, "id", str), "chat")

    def run(emit):
        h.state.apply_settings(args.settings)
        stream = h.state.engine.chat(args.prompt, cancel=req.cancel, progress=lambda f, m: emit("progress", {"fraction": f, "message": m}), **kwargs)
        emit_chunks(emit, stream)

    h.stream(req, run)


def handle_edit(h: Handler) -> None:
    """A proposed edit of a cell (see ``Engine.edit``): its answer streams as chat's does;
    the client reads the new cell and its diff from the answer. Bad input is refused before
    the request is queued."""
    data = h.body()
    request = edits.EditRequest.from_dict(data)
    checked = generation(data.get("temperature"), data.get("max_tokens"), data.get("seed"))
    conversation = field(data, "conversation", str, "edit") or "edit"
    model = field(data, "model", str) or None
    settings = check_settings(data.get("settings") or {})
    check_prompt_size(request.prompt(), [edits.SYSTEM], h.state.engine.settings.n_ctx)
    h.state.check_model(model, files_only=True)
    req = h.state.register(field(data, "id", str), "edit")

    def run(emit):
        h.state.apply_settings(settings)
        stream = h.state.engine.edit(
            request.code, instruction=request.instruction, error=request.error, selection=request.selection,
            conversation=conversation, model=model, cancel=req.cancel,
            progress=lambda f, m: emit("progress", {"fraction": f, "message": m}), **checked,
        )
        emit_chunks(emit, stream)

    h.stream(req, run)


def handle_load(h: Handler) -> None:
    data = h.body()
    model = field(data, "model", str) or None
    h.state.check_model(model, files_only=True)
    settings = check_settings(data.get("settings") or {})
    req = h.state.register(field(data, "id", str), "load")

    def run(emit):
        h.state.apply_settings(settings)
        spec = h.state.engine.load(model, lambda f, m: emit("progress", {"fraction": f, "message": m}))
        emit("done", {"model": spec.to_dict()})

    h.stream(req, run)


def _in_turn(h: Handler, kind: str, fn) -> None:
    req = h.state.register(None, kind)
    try:
        with h.state.scheduler.turn(req):
            result = fn()
    finally:
        h.state.forget(req)
    h.reply(200, result)


def handle_unload(h: Handler) -> None:
    h.body()
    _in_turn(h, "unload", lambda: (h.state.engine.unload(), {"ok": True})[1])


def handle_reset(h: Handler) -> None:
    cid = field(h.body(), "conversation", str, "default")
    _in_turn(h, "reset", lambda: (h.state.engine.reset(cid), {"ok": True})[1])


def handle_cancel(h: Handler) -> None:
    rid = field(h.body(), "id", str, required=True)
    h.reply(200, {"cancelled": h.state.cancel(rid)})


def handle_history(h: Handler) -> None:
    cid = parse_qs(urlparse(h.path).query).get("conversation", ["default"])[0]
    h.reply(200, [m.to_dict() for m in h.state.engine.history(cid)])


def handle_set_history(h: Handler) -> None:
    data = h.body()
    cid = field(data, "conversation", str, "default")
    messages = field(data, "messages", list, [])
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in messages):
        raise BadRequest("each message must be an object with 'role' and 'content' strings.")
    turns = [Message(m["role"], m["content"]) for m in messages]

    def replace():
        h.state.engine.set_history(cid, turns)
        return {"ok": True}

    _in_turn(h, "history", replace)


def handle_count_tokens(h: Handler) -> None:
    data = h.body()
    text = field(data, "text", str, required=True)
    settings = data.get("settings") or {}

    def count():
        h.state.apply_settings(settings)
        return {"tokens": h.state.engine.count_tokens(text)}

    _in_turn(h, "count", count)


def handle_status(h: Handler) -> None:
    h.reply(200, h.state.status())


def handle_model_events(h: Handler) -> None:
    """The loaded model's snapshots as they change (the current one first, unless ``after``
    names its seq), with keep-alives, until the client leaves or the host stops."""
    try:
        after = int(parse_qs(urlparse(h.path).query).get("after", ["-1"])[0])
    except ValueError:
        raise BadRequest("'after' must be an integer (a snapshot's seq).") from None
    h.follow(h.state.engine.events, after)


def handle_ping(h: Handler) -> None:
    h.reply(200, {"pid": os.getpid(), "version": __version__})


def handle_listen(h: Handler) -> None:
    port = field(h.body(), "port", int, required=True)
    if not 0 <= port < 65536:
        raise BadRequest("'port' must be between 0 and 65535.")
    h.reply(200, listen_tcp(h.state, port, h.routes))


def handle_shutdown(h: Handler) -> None:
    h.reply(200, {"ok": True})
    h.state.shutdown()


ROUTES = {
    ("GET", "/tinyai/ping"): handle_ping,
    ("GET", "/tinyai/status"): handle_status,
    ("GET", "/tinyai/model/events"): handle_model_events,
    ("GET", "/tinyai/history"): handle_history,
    ("POST", "/tinyai/history"): handle_set_history,
    ("POST", "/tinyai/count_tokens"): handle_count_tokens,
    ("POST", "/tinyai/chat"): handle_chat,
    ("POST", "/tinyai/complete"): handle_complete,
    ("POST", "/tinyai/edit"): handle_edit,
    ("POST", "/tinyai/load"): handle_load,
    ("POST", "/tinyai/unload"): handle_unload,
    ("POST", "/tinyai/reset"): handle_reset,
    ("POST", "/tinyai/cancel"): handle_cancel,
    ("POST", "/tinyai/listen"): handle_listen,
    ("POST", "/tinyai/shutdown"): handle_shutdown,
    ("GET", "/v1/models"): handle_v1_models,
    ("POST", "/v1/chat/completions"): handle_v1_chat,
    ("POST", "/v1/completions"): handle_v1_completions,
}
