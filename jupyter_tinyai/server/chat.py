"""Chat requests of the sidebar: checked, queued (one at a time per server), answered in a
thread, streamed back as wire messages, and recorded in the history.

No tornado here: a request carries a ``send(message: dict)`` callable, which the WebSocket
handler provides. Messages sent for one request, in order::

    queued*  (only while another request runs; position 1 = next): sent when the request
             joins the queue and when it reaches one of the last QUEUE_UPDATES places —
             at most 1 + QUEUE_UPDATES per request, so a burst of N costs O(N) frames
    progress* (only while a model loads)
    start, notice?, token*, done      — or error, at any point

A notice says the conversation's saved file was damaged and set aside (the answer starts a
new conversation), or that the context was trimmed to fit. Whatever fails in a turn —
the model, the history store, a bug — ends the request with an ``error`` message.

The engine keeps each conversation's turns under ``"lab:" + conversation id``; before a
turn they are compared with the saved history and rebuilt from it when they differ (a
server or host restart, a conversation the engine never saw).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import TinyAIError
from ..types import ContextPiece, Stats
from ..validation import chat_request as checked_chat
from .history import DamagedHistory, HistoryStore, engine_messages, valid_id

log = logging.getLogger(__name__)

ENGINE_PREFIX = "lab:"

#: a waiter is told its place when it joins and again at each of the last this many places
QUEUE_UPDATES = 3


class BadMessage(Exception):
    """A WebSocket message that does not follow the protocol."""

    def __init__(self, message: str, request_id=None, kind: str = "bad_request"):
        super().__init__(message)
        self.request_id = request_id
        self.kind = kind

    def to_wire(self) -> dict:
        data = {"type": "error", "kind": self.kind, "message": str(self)}
        if self.request_id is not None:
            data["id"] = self.request_id
        return data


@dataclass
class ChatRequest:
    id: object  # str or int, echoed back as given
    prompt: str
    conversation: str
    notebook: str = ""
    context: list = field(default_factory=list)  # [{"label", "text"}]
    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    send: Callable[[dict], None] = lambda message: None
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task | None = None
    position: int = 0
    recorded: bool = False  # the user's message is in the history


def parse(raw) -> dict:
    """The message as a dict with a known ``type``; raises :class:`BadMessage`."""
    try:
        msg = json.loads(raw)
    except (TypeError, ValueError):
        raise BadMessage("the message is not JSON: send {\"type\": \"chat\" | \"stop\", \"id\": …}") from None
    if not isinstance(msg, dict):
        raise BadMessage("the message must be a JSON object")
    rid = msg.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or rid == "":
        raise BadMessage("'id' (a request id: string or integer) is missing")
    if msg.get("type") not in ("chat", "stop"):
        raise BadMessage(f"unknown message type {msg.get('type')!r}: expected 'chat' or 'stop'", rid)
    return msg


def chat_request(msg: dict, n_ctx: int | None = None) -> ChatRequest:
    """A :class:`ChatRequest` from a parsed ``chat`` message, checked by the host's rule
    (:func:`jupyter_tinyai.validation.chat_request`, with the configured ``n_ctx``) and, as
    it names a file, a conversation id of letters, digits, '-' and '_'; raises
    :class:`BadMessage`. The server's own settings apply: a message's ``settings`` are not."""
    rid = msg["id"]
    try:
        args = checked_chat({key: value for key, value in msg.items() if key != "settings"}, n_ctx)
    except TinyAIError as error:
        raise BadMessage(str(error), rid, error.kind) from None
    conversation = args.conversation or uuid.uuid4().hex
    if not valid_id(conversation):
        raise BadMessage("'conversation' must be 1-128 letters, digits, '-' or '_'", rid)
    notebook = msg.get("notebook") or ""
    if not isinstance(notebook, str):
        raise BadMessage("'notebook' must be a string (the notebook's path)", rid)
    return ChatRequest(
        id=rid,
        prompt=args.prompt,
        conversation=conversation,
        notebook=notebook,
        context=[piece.to_dict() for piece in args.context],
        model=args.model,
        system=args.system,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        seed=args.seed,
    )


class ChatService:
    """One per server: runs requests one at a time, in arrival order."""

    def __init__(self, store: HistoryStore, client: Callable[[], object], n_ctx: int | None = None):
        self.store = store
        self.client = client  # called in a worker thread: may start the host
        self.n_ctx = n_ctx  # the configured context window: prompts far beyond it are refused
        self.waiting: list[ChatRequest] = []
        self.running: ChatRequest | None = None
        self._lock: asyncio.Lock | None = None

    # -- queue ----------------------------------------------------------------------------

    def submit(self, request: ChatRequest) -> asyncio.Task:
        request.task = asyncio.ensure_future(self._run(request))
        return request.task

    def stop(self, request: ChatRequest) -> None:
        """Stop a request: a running one within a token (its partial answer is kept), a
        queued one at once."""
        request.cancel.set()
        if request in self.waiting and request.task is not None:
            request.task.cancel()

    async def _run(self, request: ChatRequest) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        self.waiting.append(request)
        if self._lock.locked() or len(self.waiting) > 1:
            self._announce()
        try:
            async with self._lock:
                self.waiting.remove(request)
                self._announce()
                self.running = request
                try:
                    await self._answer(request)
                except Exception as error:  # noqa: BLE001 - a turn never fails silently
                    self._failed(request, error, "")
                finally:
                    self.running = None
        except asyncio.CancelledError:
            if request in self.waiting:  # stopped while queued: it never ran
                self.waiting.remove(request)
                self._announce()
                request.send({"type": "done", "id": request.id, "text": "", "stats": Stats(finish_reason="cancelled").to_dict()})
                return
            raise

    def _announce(self) -> None:
        """Tell a waiter its place when it joins, then only at the last QUEUE_UPDATES
        places: linear in the number of requests, however long the queue."""
        for index, request in enumerate(self.waiting, 1):
            if request.position == 0 or (index != request.position and index <= QUEUE_UPDATES):
                request.position = index
                request.send({"type": "queued", "id": request.id, "position": index})

    # -- one answer -----------------------------------------------------------------------

    async def _answer(self, request: ChatRequest) -> None:
        if request.cancel.is_set():
            request.send({"type": "done", "id": request.id, "text": "", "stats": Stats(finish_reason="cancelled").to_dict()})
            return
        try:
            saved = self.store.get(request.conversation)
            damaged = None
        except DamagedHistory as error:
            if not error.set_aside:  # still in the way: never written over
                raise
            saved, damaged = None, f"{error} This answer starts a new conversation."  # a fresh file
        earlier = engine_messages(saved["messages"]) if saved else []
        self.store.add_user(request.conversation, request.notebook, request.prompt, request.context)
        request.recorded = True
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()

        def emit(kind, payload=None):
            try:
                loop.call_soon_threadsafe(events.put_nowait, (kind, payload))
            except RuntimeError:  # the event loop is gone (server shutting down)
                request.cancel.set()

        def work():
            try:
                emit("end", self._generate(request, earlier, emit))
            except BaseException as error:  # noqa: BLE001 - reported to the client
                emit("fail", error)

        threading.Thread(target=work, name=f"tinyai-chat-{request.id}", daemon=True).start()
        parts: list[str] = []
        while True:
            try:
                kind, payload = await events.get()
            except asyncio.CancelledError:  # the server is shutting down
                request.cancel.set()
                raise
            if kind == "token":
                parts.append(payload)
                request.send({"type": "token", "id": request.id, "text": payload})
            elif kind in ("start", "progress", "notice"):
                request.send({"type": kind, "id": request.id, **payload})
                if kind == "start" and damaged:
                    request.send({"type": "notice", "id": request.id, "text": damaged})
            elif kind == "end":
                stats = (payload or Stats(finish_reason="cancelled")).to_dict()
                try:
                    self.store.add_answer(request.conversation, "".join(parts), stats)
                except Exception as error:  # noqa: BLE001 - the user is told; the text is on screen
                    log.error("TinyAI could not save an answer", exc_info=error)
                    request.send({"type": "error", "id": request.id, "kind": "history",
                                  "message": f"the answer could not be saved to the chat history ({type(error).__name__}: {error})."})
                    return
                request.send({"type": "done", "id": request.id, "stats": stats, "text": "".join(parts)})
                return
            else:  # fail
                self._failed(request, payload, "".join(parts))
                return

    def _generate(self, request: ChatRequest, earlier, emit) -> Stats | None:
        """In a worker thread: rebuild the engine's turns if needed, load, stream."""
        client = self.client()
        cid = ENGINE_PREFIX + request.conversation
        if client.history(cid) != earlier:
            client.set_history(cid, earlier)  # after a restart: the saved turns, once

        def progress(fraction, message):
            emit("progress", {"fraction": fraction, "message": message})

        # the model picked in the sidebar, else the server's configured default: never
        # whatever another client left loaded (the rule of jupyter_tinyai.choice)
        model = client.load(request.model, progress).id
        emit("start", {"conversation": request.conversation, "model": model})
        stats = None
        for chunk in client.chat(
            request.prompt,
            conversation=cid,
            model=request.model,
            context=[ContextPiece(p["label"], p["text"]) for p in request.context],
            system=request.system,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            seed=request.seed,
            cancel=request.cancel,
            progress=progress,
        ):
            if chunk.notice:
                emit("notice", {"text": chunk.notice})
            if chunk.text:
                emit("token", chunk.text)
            if chunk.stats is not None:
                stats = chunk.stats
        return stats

    def _failed(self, request: ChatRequest, error: BaseException, partial: str) -> None:
        if isinstance(error, TinyAIError):
            wire = {"kind": error.kind, "message": str(error)}
        else:
            log.error("TinyAI chat request failed", exc_info=error)
            wire = {"kind": "internal", "message": f"unexpected error ({type(error).__name__}: {error}); the Jupyter server log has the details."}
        try:
            if not request.recorded:
                pass  # failed before the user's message was saved: nothing to take back
            elif partial:
                self.store.add_answer(request.conversation, partial, Stats(finish_reason="error").to_dict())
            else:
                self.store.drop_unanswered(request.conversation)
        except Exception:  # noqa: BLE001 - the error below is what the user needs to see
            log.error("TinyAI could not record a failed turn in the chat history", exc_info=True)
        request.send({"type": "error", "id": request.id, **wire})

    # -- conversations --------------------------------------------------------------------

    def forget(self, conversation: str) -> None:
        """Stop the requests of a deleted conversation (call before deleting its file)."""
        for request in [self.running, *self.waiting]:
            if request is not None and request.conversation == conversation:
                self.stop(request)
