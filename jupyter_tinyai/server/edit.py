"""``POST <base url>/tinyai/edit``: a proposed edit of a cell, for JupyterLab's "Fix Error"
and "Edit Cell" commands.

The body: ``{"code", "instruction"?, "error"?, "selection"?: [start, end], "model"?}`` (see
:class:`jupyter_tinyai.edits.EditRequest`). A bad one is refused with a 400 whose JSON says in
one line what to do. Otherwise the answer streams as JSON lines (``application/x-ndjson``)::

    {"type": "queued", "position": n}*        while other requests use the model
    {"type": "progress", "fraction", "message"}*   while a model loads
    {"type": "start", "model": id}
    {"type": "token", "text": delta}*
    {"type": "done", "code", "diff", "message", "answer", "stats"}   — or {"type": "error", "kind", "message"}

``done`` carries the whole new cell and its unified diff, or ``code: null`` and a one-line
``message`` (no code in the answer, the same code, cut off). Nothing is run or changed here:
the user applies the code. Closing the connection stops the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.iostream import StreamClosedError

from ..edits import SYSTEM, EditRequest
from ..errors import InternalError, InvalidRequest, TinyAIError
from ..prompts import check_prompt_size
from ..validation import generation
from .handlers import TinyAIHandler

log = logging.getLogger(__name__)

#: the engine's conversation of the lab's edits (each edit replaces the one before)
CONVERSATION = "lab:edit"


def checked(body, n_ctx: int | None) -> tuple[EditRequest, dict]:
    """The edit request and its other arguments; raises a :class:`TinyAIError` saying what is wrong."""
    request = EditRequest.from_dict(body)
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model):
        raise InvalidRequest("'model' must be a model id (a string), or left out for the default.")
    args = generation(body.get("temperature"), body.get("max_tokens"), body.get("seed"))
    if n_ctx:
        check_prompt_size(request.prompt(), [SYSTEM], n_ctx)
    return request, {"model": model, **args}


class EditHandler(TinyAIHandler):
    """Streams one proposed edit (see the module's docstring)."""

    cancel: threading.Event | None = None
    gone = False  # the browser closed the connection

    @web.authenticated
    @authorized("execute")
    async def post(self):
        try:
            request, args = checked(self.get_json_body(), self.service.n_ctx)
        except TinyAIError as error:
            self.set_status(400)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(error.to_dict()))
            return
        self.cancel = threading.Event()
        self.set_header("Content-Type", "application/x-ndjson")
        self.set_header("Cache-Control", "no-cache")
        loop = asyncio.get_running_loop()
        messages: asyncio.Queue = asyncio.Queue()

        def emit(message):
            try:
                loop.call_soon_threadsafe(messages.put_nowait, message)
            except RuntimeError:  # the event loop is gone (server shutting down)
                self.cancel.set()

        client_of = self.settings["tinyai_client"]
        threading.Thread(target=_propose, args=(client_of, request, args, self.cancel, emit), name="tinyai-edit",
                         daemon=True).start()
        while (message := await messages.get()) is not None:
            if self.gone:  # (the engine sets cancel itself where the code ends: not a reason to stop writing)
                continue
            try:
                self.write(json.dumps(message) + "\n")
                await self.flush()
            except StreamClosedError:
                self.gone = True
                self.cancel.set()
        try:
            self.finish()
        except StreamClosedError:  # the browser left
            pass

    def on_connection_close(self):
        self.gone = True
        if self.cancel is not None:
            self.cancel.set()


def _propose(client_of, request: EditRequest, args: dict, cancel: threading.Event, emit) -> None:
    """In a worker thread: stream the edit's answer as wire messages, then ``None``."""
    try:
        stream = client_of().edit(
            request.code, instruction=request.instruction, error=request.error, selection=request.selection,
            conversation=CONVERSATION, cancel=cancel,
            progress=lambda fraction, message: emit({"type": "progress", "fraction": fraction, "message": message}),
            **args,
        )
        for chunk in stream:
            if chunk.queued is not None:
                emit({"type": "queued", "position": chunk.queued})
            if chunk.model is not None:
                emit({"type": "start", "model": chunk.model})
            if chunk.text:
                emit({"type": "token", "text": chunk.text})
        emit({"type": "done", **stream.result.to_dict()})
    except TinyAIError as error:
        emit({"type": "error", **error.to_dict()})
    except Exception as error:  # noqa: BLE001 - a request never fails silently
        log.error("TinyAI edit request failed", exc_info=error)
        failed = InternalError(f"unexpected error ({type(error).__name__}: {error}); the Jupyter server log has the details.")
        emit({"type": "error", **failed.to_dict()})
    finally:
        emit(None)


def setup_edit_handler(web_app) -> None:
    base = url_path_join(web_app.settings["base_url"], "tinyai")
    web_app.add_handlers(".*$", [(url_path_join(base, "edit"), EditHandler)])
