"""``POST <base url>/tinyai/edit``: a proposed edit of a cell, for JupyterLab's "Fix Error"
and "Edit Cell" commands.

The body: ``{"code", "instruction"?, "error"?, "selection"?: [start, end], "model"?,
"conversation"?, "notebook"?, "cell"?}`` (see :class:`jupyter_tinyai.edits.EditRequest`). A bad one is refused with a 400 whose JSON says in
one line what to do. Otherwise the answer streams as JSON lines (``application/x-ndjson``)::

    {"type": "queued", "position": n}*        while other requests use the model
    {"type": "progress", "fraction", "message"}*   while a model loads
    {"type": "start", "model": id}
    {"type": "token", "text": delta}*
    {"type": "done", "code", "diff", "message", "answer", "stats"}   — or {"type": "error", "kind", "message"}

``done`` carries the whole new cell and its unified diff, or ``code: null`` and a one-line
``message`` (no code in the answer, the same code, cut off). Nothing is run or changed here:
the user applies the code. Closing the connection stops the answer.

With a ``conversation`` id, the turn is also recorded in the chat history as an inline one
(left out of History, as an inline explanation's): the request in words with the cell (and
the error) as context, then the proposed cell in a code block as the answer, so that
"Continue in sidebar" (``PATCH conversations/<id>`` with ``{"inline": false}``) can go on
talking about it. ``done`` then carries ``"conversation": id``.
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

from ..edits import SYSTEM, EditRequest, error_text
from ..errors import InternalError, InvalidRequest, TinyAIError
from ..prompts import check_prompt_size
from ..validation import generation
from .chat import display_name
from .handlers import TinyAIHandler
from .history import now, valid_id

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


def recorded_as(body) -> tuple[str, str, str] | None:
    """The (conversation id, notebook, cell's name) to record the turn under, or None;
    raises :class:`InvalidRequest` saying what is wrong."""
    cid, notebook, cell = body.get("conversation"), body.get("notebook") or "", body.get("cell") or ""
    if cid is None:
        return None
    if not valid_id(cid):
        raise InvalidRequest("'conversation' must be 1-128 letters, digits, '-' or '_', or left out.")
    if not isinstance(notebook, str):
        raise InvalidRequest("'notebook' must be a string (the notebook's path).")
    if not isinstance(cell, str) or len(cell) > 100:
        raise InvalidRequest("'cell' must be the cell's name (a short string, e.g. 'cell 3'), or left out.")
    return cid, notebook, cell


def history_turn(request: EditRequest, cell: str = "") -> tuple[str, list[dict]]:
    """The user's side of an edit as the chat history keeps it: the request in words, with
    the cell (the selection, the error) as context, labelled with the cell's name."""
    words = (request.instruction or "").strip() or "Fix this error."
    named = f" ({cell})" if cell else ""
    context = [{"label": f"Code{named}", "text": request.code}]
    if request.selection is not None:
        context.append({"label": f"Selection{named}: the part to change", "text": request.part()})
    if request.error and request.error.strip():
        context.append({"label": f"Error{named}", "text": error_text(request.error)})
    return words, context


def history_answer(done: dict) -> str:
    """The assistant's side: the proposed cell in a code block, or what the model said."""
    if isinstance(done.get("code"), str):
        return "```python\n" + done["code"].strip("\n") + "\n```"
    return done.get("answer") or done.get("message") or ""


class EditHandler(TinyAIHandler):
    """Streams one proposed edit (see the module's docstring)."""

    cancel: threading.Event | None = None
    gone = False  # the browser closed the connection

    @web.authenticated
    @authorized("execute")
    async def post(self):
        try:
            body = self.get_json_body()
            request, args = checked(body, self.service.n_ctx)
            record = recorded_as(body)
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
        turn = _Turn(self.service.store, record, request)
        while (message := await messages.get()) is not None:
            turn.see(message)
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


class _Turn:
    """Records an edit's turn in the history (when it has a conversation id): the request
    once the model starts on it, the answer when it is done, nothing if it failed."""

    def __init__(self, store, record: tuple[str, str, str] | None, request: EditRequest):
        self.store, self.record, self.request = store, record, request
        self.model: str | None = None
        self.started = False

    def see(self, message: dict) -> None:
        if self.record is None:
            return
        cid, notebook, cell = self.record
        try:
            if message["type"] == "start" and not self.started:
                self.model = message.get("model")
                words, context = history_turn(self.request, cell)
                self.store.add_user(cid, notebook, words, context, inline=True, time=now())
                self.started = True
            elif message["type"] == "done" and self.started:
                stats = message.get("stats")
                model = display_name((stats or {}).get("model") or self.model)
                self.store.add_answer(cid, history_answer(message), stats, model=model, time=now())
                message["conversation"] = cid
            elif message["type"] == "error" and self.started:
                self.store.drop_unanswered(cid)
        except Exception as error:  # noqa: BLE001 - the edit itself goes on; only "Continue in sidebar" is lost
            log.error("TinyAI could not record an edit in the chat history", exc_info=error)
            self.record = None


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
