"""REST and WebSocket handlers under ``<base url>/tinyai/``.

Every handler is authenticated and authorized as Jupyter's own are (resource
``"tinyai"``; reading is "read", changing is "write", chatting is "execute"), and keeps
XSRF checks. Blocking calls to the model client run in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import json

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..errors import ModelNotFound, TinyAIError
from .catalog import catalog_handlers
from .chat import (
    ENGINE_PREFIX,
    BadMessage,
    ChatRequest,
    ChatService,
    chat_request,
    parse,
)
from .history import ID_PATTERN, DamagedHistory

AUTH_RESOURCE = "tinyai"


class TinyAIHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> ChatService:
        return self.settings["tinyai_chat"]

    async def in_thread(self, fn, *args):
        """``fn(client, *args)`` in a worker thread; a TinyAIError becomes a JSON error."""
        client_of = self.settings["tinyai_client"]
        try:
            return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(client_of(), *args))
        except TinyAIError as error:
            raise web.HTTPError(404 if isinstance(error, ModelNotFound) else 400, reason=error.kind) from error

    def write_error(self, status_code, **kwargs):
        error = kwargs.get("exc_info", (None, None))[1]
        cause = getattr(error, "__cause__", None)
        if isinstance(cause, TinyAIError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(cause.to_dict()))
        else:
            super().write_error(status_code, **kwargs)


def _models(client) -> dict:
    from .. import models
    from ..config import load_settings
    from ..models.hint import tiny_model_hint

    loaded = client.status().get("model")
    settings = getattr(client, "settings", None) or load_settings()
    try:
        default = models.resolve(None, settings).id
    except TinyAIError:
        default = None
    specs = client.list_models()
    try:
        hint = tiny_model_hint(settings, specs=specs)  # while only the bundled model is present
    except Exception:  # noqa: BLE001 - a hint never spoils the listing
        hint = None
    return {
        "models": [spec.to_dict() for spec in specs if not spec.warning],
        # bad files, remotes down: one line each, not models to pick ("remote" names a remote)
        "warnings": [{"message": spec.warning, "remote": spec.extra.get("remote")} for spec in specs if spec.warning],
        "loaded": loaded["id"] if loaded else None,
        "default": default,
        "hint": hint,
    }


class ModelsHandler(TinyAIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.finish(await self.in_thread(_models))


class LoadModelHandler(TinyAIHandler):
    @web.authenticated
    @authorized
    async def post(self):
        body = self.get_json_body() or {}
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise web.HTTPError(400, "the body must be {\"model\": <model id>}")
        spec = await self.in_thread(lambda client: client.load(model))
        self.finish({"model": spec.to_dict()})


class StatusHandler(TinyAIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        self.finish(await self.in_thread(lambda client: client.status()))


class ConversationsHandler(TinyAIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        notebook = self.get_query_argument("notebook", None)
        notices: list[str] = []  # one line per damaged file set aside by this listing
        conversations = self.service.store.list(notebook, notices)
        self.finish({"conversations": conversations, "notices": notices})


class ConversationHandler(TinyAIHandler):
    @web.authenticated
    @authorized
    async def get(self, cid):
        try:
            data = self.service.store.get(cid)
        except DamagedHistory as damaged:
            raise web.HTTPError(404, str(damaged)) from None
        if data is None:
            raise web.HTTPError(404, f"no conversation {cid}")
        keys = ("id", "notebook", "title", "updated", "model", "messages")
        self.finish({key: data.get(key) for key in keys})

    @web.authenticated
    @authorized
    async def delete(self, cid):
        self.service.forget(cid)
        try:
            deleted = self.service.store.delete(cid)
        except DamagedHistory as damaged:  # set aside (so no longer there), or left: it cannot be deleted
            if damaged.set_aside:
                await self.in_thread(lambda client: client.reset(ENGINE_PREFIX + cid))
            raise web.HTTPError(404 if damaged.set_aside else 409, str(damaged)) from None
        if not deleted:
            raise web.HTTPError(404, f"no conversation {cid}")
        await self.in_thread(lambda client: client.reset(ENGINE_PREFIX + cid))
        self.set_status(204)
        self.finish()

    @web.authenticated
    @authorized
    async def patch(self, cid):
        """``{"inline": false}``: an inline explanation continued in the sidebar, listed in
        History from now on (the only change a conversation takes)."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("inline") is not False or len(body) != 1:
            raise web.HTTPError(400, 'send {"inline": false} to keep an inline explanation in History')
        try:
            kept = self.service.store.keep(cid)
        except DamagedHistory as damaged:
            raise web.HTTPError(404 if damaged.set_aside else 409, str(damaged)) from None
        if not kept:
            raise web.HTTPError(404, f"no conversation {cid}")
        self.set_status(204)
        self.finish()


class ChatWebSocket(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """The chat: see :mod:`jupyter_tinyai.server.chat` for the messages."""

    auth_resource = AUTH_RESOURCE

    def set_default_headers(self):
        """No JupyterHandler default headers on a WebSocket upgrade (as for kernels)."""

    @ws_authenticated
    async def get(self, *args, **kwargs):
        if not await _ensure(self.authorizer.is_authorized(self, self.current_user, "execute", AUTH_RESOURCE)):
            raise web.HTTPError(403)
        self.requests: dict = {}
        await super().get(*args, **kwargs)

    @property
    def service(self) -> ChatService:
        return self.settings["tinyai_chat"]

    def send(self, message: dict) -> None:
        try:
            self.write_message(json.dumps(message))
        except WebSocketClosedError:
            pass  # on_close stops this socket's requests

    def on_message(self, raw):
        try:
            msg = parse(raw)
            if msg["type"] == "stop":
                request = self.requests.get(msg["id"])
                if request is not None:
                    self.service.stop(request)
                return
            if msg["id"] in self.requests:
                raise BadMessage(f"request {msg['id']!r} is still running: use a new id", msg["id"])
            request: ChatRequest = chat_request(msg, self.service.n_ctx)
        except BadMessage as error:
            self.send(error.to_wire())
            return
        request.send = self.send
        self.requests[request.id] = request
        task = self.service.submit(request)
        task.add_done_callback(lambda _: self.requests.pop(request.id, None))

    def on_close(self):
        for request in list(getattr(self, "requests", {}).values()):
            self.service.stop(request)


async def _ensure(value):
    return await value if asyncio.iscoroutine(value) else value


def _complete_handler():
    from .complete import CompleteHandler  # its own module (it imports this one)

    return CompleteHandler


def setup_handlers(web_app, service: ChatService, client) -> None:
    from .modelstate import ModelEventsHandler, ModelStateRelay

    base = url_path_join(web_app.settings["base_url"], "tinyai")
    web_app.settings["tinyai_chat"] = service
    web_app.settings["tinyai_client"] = client
    web_app.settings["tinyai_model_relay"] = ModelStateRelay(client)
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "models"), ModelsHandler),
            (url_path_join(base, "models", "load"), LoadModelHandler),
            (url_path_join(base, "status"), StatusHandler),
            (url_path_join(base, "model", "events"), ModelEventsHandler),
            (url_path_join(base, "conversations"), ConversationsHandler),
            (url_path_join(base, "conversations", f"({ID_PATTERN})"), ConversationHandler),
            (url_path_join(base, "chat"), ChatWebSocket),
            (url_path_join(base, "complete"), _complete_handler()),
            *catalog_handlers(web_app, base),  # tinyai/catalog and tinyai/pulls (server/catalog.py)
        ],
    )
