"""Chat requests of the sidebar: checked, answered in a thread, streamed back as wire
messages, and recorded in the history.

No tornado here: a request carries a ``send(message: dict)`` callable, which the WebSocket
handler provides. Messages sent for one request, in order::

    queued*  (only while other requests use the model; position 1 = next): the model's own
             queue (the host's, or the in-process engine's: :mod:`jupyter_tinyai.scheduler`)
             tells it when the request joins and at each of the last QUEUE_UPDATES places —
             at most 1 + QUEUE_UPDATES per request, so a burst of N costs O(N) frames
    progress* (only while a model loads)
    start, notice?, (reasoning | token)*, done      — or error, at any point

``reasoning`` frames carry the model's thinking before its answer (a ``<think>`` block),
as ``{"type": "reasoning", "id", "text": <delta>}``; ``done`` and the saved answer carry
all of it as ``"reasoning"``. It is never sent back to the model.

``done`` carries the answer's ``text``, ``stats``, ``model`` (the model's display name:
each answer names its model) and ``time`` (ISO 8601, UTC); the stored history messages
carry ``time`` too, and the answers ``model``.

The server keeps no queue of its own: every request goes to the client at once, except
that the turns of one conversation wait for each other, in order.

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

from ..errors import HistoryError, InternalError, InvalidRequest, TinyAIError
from ..scheduler import QUEUE_UPDATES  # noqa: F401 - the bound on `queued` messages, for tests and readers
from ..types import ContextPiece, Stats
from ..validation import chat_request as checked_chat
from .history import DamagedHistory, HistoryStore, engine_messages, now, valid_id

log = logging.getLogger(__name__)

ENGINE_PREFIX = "lab:"


class BadMessage(InvalidRequest):
    """A WebSocket message that does not follow the protocol (``kind``: another error's, for
    a request refused at the door, e.g. "prompt_too_long")."""

    def __init__(self, message: str, request_id=None, kind: str = InvalidRequest.kind):
        super().__init__(message)
        self.request_id = request_id
        self.kind = kind

    def to_wire(self) -> dict:
        data = {"type": "error", **self.to_dict()}
        if self.request_id is not None:
            data["id"] = self.request_id
        return data


@dataclass
class ChatRequest:
    id: object  # str or int, echoed back as given
    prompt: str
    conversation: str
    notebook: str = ""
    inline: bool = False  # an inline explanation's turn: kept out of History until continued
    context: list = field(default_factory=list)  # [{"label", "text"}]
    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    send: Callable[[dict], None] = lambda message: None
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task | None = None
    answering: bool = False  # handed to the client (no longer waiting for its conversation's turn)
    recorded: bool = False  # the user's message is in the history
    answered_by: str | None = None  # (after start) the id of the model answering


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
    inline = msg.get("inline", False)
    if not isinstance(inline, bool):
        raise BadMessage("'inline' must be true or false (true: an inline explanation's turn)", rid)
    return ChatRequest(
        id=rid,
        prompt=args.prompt,
        conversation=conversation,
        notebook=notebook,
        inline=inline,
        context=[piece.to_dict() for piece in args.context],
        model=args.model,
        system=args.system,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        seed=args.seed,
    )


class ChatService:
    """One per server: answers every request as it comes; the client's queue runs them one
    at a time."""

    def __init__(self, store: HistoryStore, client: Callable[[], object], n_ctx: int | None = None):
        self.store = store
        self.client = client  # called in a worker thread: may start the host
        self.n_ctx = n_ctx  # the configured context window: prompts far beyond it are refused
        self.active: list[ChatRequest] = []
        self._last: dict[str, asyncio.Task] = {}  # per conversation: its latest request

    def submit(self, request: ChatRequest) -> asyncio.Task:
        request.task = asyncio.ensure_future(self._run(request))
        return request.task

    def stop(self, request: ChatRequest) -> None:
        """Stop a request within a token (its partial answer is kept); one still waiting,
        for the model or for its conversation's previous turn, at once."""
        request.cancel.set()
        if not request.answering and request.task is not None:
            request.task.cancel()

    async def _run(self, request: ChatRequest) -> None:
        self.active.append(request)
        before = self._last.get(request.conversation)
        self._last[request.conversation] = request.task
        try:
            if before is not None:  # the conversation's turns go in order
                await asyncio.wait([before])
            request.answering = True
            await self._answer(request)
        except asyncio.CancelledError:
            if request.answering:  # the server is shutting down
                raise
            request.send(_cancelled(request))  # stopped before it began
        except Exception as error:  # noqa: BLE001 - a turn never fails silently
            request.cancel.set()  # (the store failed): the model stops too
            self._failed(request, error, "")
        finally:
            self.active.remove(request)
            if self._last.get(request.conversation) is request.task:
                del self._last[request.conversation]

    # -- one answer -----------------------------------------------------------------------

    async def _answer(self, request: ChatRequest) -> None:
        if request.cancel.is_set():
            request.send(_cancelled(request))
            return
        try:
            saved = self.store.get(request.conversation)
            damaged = None
        except DamagedHistory as error:
            if not error.set_aside:  # still in the way: never written over
                raise
            saved, damaged = None, f"{error} This answer starts a new conversation."  # a fresh file
        earlier = engine_messages(saved["messages"]) if saved else []
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
        thoughts: list[str] = []  # the reasoning, shown folded, never sent back to the model
        while True:
            try:
                kind, payload = await events.get()
            except asyncio.CancelledError:  # the server is shutting down
                request.cancel.set()
                raise
            if kind == "token":
                parts.append(payload)
                request.send({"type": "token", "id": request.id, "text": payload})
            elif kind == "reasoning":
                thoughts.append(payload)
                request.send({"type": "reasoning", "id": request.id, "text": payload})
            elif kind == "queued":
                request.send({"type": "queued", "id": request.id, "position": payload})
            elif kind == "start":  # the model's turn: from now on the turn is in the history
                self.store.add_user(request.conversation, request.notebook, request.prompt, request.context,
                                    inline=request.inline, time=now())
                request.recorded = True
                request.answered_by = payload.get("model")
                request.send({"type": "start", "id": request.id, **payload})
                if damaged:
                    request.send({"type": "notice", "id": request.id, "text": damaged})
            elif kind in ("progress", "notice"):
                request.send({"type": kind, "id": request.id, **payload})
            elif kind == "end":
                if not request.recorded:  # stopped while it waited for the model
                    request.send(_cancelled(request))
                    return
                stats = (payload or Stats(finish_reason="cancelled")).to_dict()
                named = {"model": display_name(stats.get("model") or request.answered_by), "time": now()}
                try:
                    self.store.add_answer(request.conversation, "".join(parts), stats, "".join(thoughts), **named)
                except Exception as error:  # noqa: BLE001 - the user is told; the text is on screen
                    log.error("TinyAI could not save an answer", exc_info=error)
                    failed = HistoryError(f"the answer could not be saved to the chat history ({type(error).__name__}: {error}).")
                    request.send({"type": "error", "id": request.id, **failed.to_dict()})
                    return
                done = {"type": "done", "id": request.id, "stats": stats, "text": "".join(parts), **named}
                if thoughts:
                    done["reasoning"] = "".join(thoughts)
                request.send(done)
                return
            else:  # fail
                self._failed(request, payload, "".join(parts))
                return

    def _generate(self, request: ChatRequest, earlier, emit) -> Stats | None:
        """In a worker thread: rebuild the engine's turns if needed, then stream. The model
        is the one picked in the sidebar, else the server's configured default: never
        whatever another client left loaded (the rule of jupyter_tinyai.choice)."""
        client = self.client()
        cid = ENGINE_PREFIX + request.conversation
        if client.history(cid) != earlier:
            client.set_history(cid, earlier)  # after a restart: the saved turns, once
        if request.cancel.is_set():  # stopped meanwhile
            return None
        stats = None
        for chunk in client.chat(
            request.prompt,
            conversation=cid,
            model=request.model,
            system=request.system,
            context=[ContextPiece(p["label"], p["text"]) for p in request.context],
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            seed=request.seed,
            cancel=request.cancel,
            progress=lambda fraction, message: emit("progress", {"fraction": fraction, "message": message}),
        ):
            if chunk.queued is not None:  # its place in the model's queue (its notice says the same)
                emit("queued", chunk.queued)
                continue
            if chunk.model is not None:
                emit("start", {"conversation": request.conversation, "model": chunk.model})
            if chunk.notice:
                emit("notice", {"text": chunk.notice})
            if chunk.reasoning:
                emit("reasoning", chunk.reasoning)
            if chunk.text:
                emit("token", chunk.text)
            if chunk.stats is not None:
                stats = chunk.stats
        return stats

    def _failed(self, request: ChatRequest, error: BaseException, partial: str) -> None:
        if not isinstance(error, TinyAIError):
            log.error("TinyAI chat request failed", exc_info=error)
            error = InternalError(f"unexpected error ({type(error).__name__}: {error}); the Jupyter server log has the details.")
        wire = error.to_dict()
        try:
            if not request.recorded:
                pass  # failed before the user's message was saved: nothing to take back
            elif partial:
                self.store.add_answer(request.conversation, partial, Stats(finish_reason="error").to_dict(),
                                      model=display_name(request.answered_by), time=now())
            else:
                self.store.drop_unanswered(request.conversation)
        except Exception:  # noqa: BLE001 - the error below is what the user needs to see
            log.error("TinyAI could not record a failed turn in the chat history", exc_info=True)
        request.send({"type": "error", "id": request.id, **wire})

    # -- conversations --------------------------------------------------------------------

    def forget(self, conversation: str) -> None:
        """Stop the requests of a deleted conversation (call before deleting its file)."""
        for request in list(self.active):
            if request.conversation == conversation:
                self.stop(request)


def display_name(model_id: str | None) -> str | None:
    """The name an answer shows for its model: its id without the backend or remote before
    the first ':' ("llamacpp:SmolLM2-135M-Instruct-Q4_1" -> "SmolLM2-135M-Instruct-Q4_1")."""
    if not model_id:
        return None
    return model_id.split(":", 1)[-1] or model_id


def _cancelled(request: ChatRequest) -> dict:
    """The answer to a request stopped before the model began it."""
    return {"type": "done", "id": request.id, "text": "", "stats": Stats(finish_reason="cancelled").to_dict(),
            "model": None, "time": now()}
