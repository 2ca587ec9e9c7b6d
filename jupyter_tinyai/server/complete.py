"""``POST <base url>/tinyai/complete``: inline completion for JupyterLab's editors.

The body is a notebook and a cursor in it (``{"cells", "index", "before", "after",
"recent", "language", "session", "model", "max_lines"}``, see
:mod:`jupyter_tinyai.completion.wire`), or the code around a cursor (``{"prefix",
"suffix", …}``). The answer streams as JSON lines: ``{"text": …}``… then ``{"stats": …}``;
a request that fails before its first line is an HTTP error with ``{"kind", "message"}``,
one that fails later ends with ``{"error": {"kind", "message"}}``.

Authenticated and authorized as Jupyter's own handlers are (resource ``"tinyai"``, action
``"execute"``: it runs the model). A client that goes away (the next keystroke aborts the
fetch) cancels its request; a new request of the same ``session`` does too, on the host.
"""

from __future__ import annotations

import asyncio
import json
import threading

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..completion.wire import complete_kwargs, notebook_kwargs
from ..errors import InvalidRequest, ModelNotFound, TinyAIError
from .handlers import TinyAIHandler

#: the session of one editor is prefixed so it never meets another front end's
SESSION_PREFIX = "lab:"
_END = object()


def _kwargs(body) -> dict:
    if not isinstance(body, dict):
        raise InvalidRequest("a completion request is a JSON object with 'cells' and a cursor, or 'prefix'.")
    kwargs = notebook_kwargs(body) if "cells" in body else complete_kwargs(body)
    kwargs["session"] = SESSION_PREFIX + str(kwargs.get("session") or "default")
    return kwargs


class CompleteHandler(TinyAIHandler):
    @web.authenticated
    @authorized("execute")
    async def post(self):
        try:
            kwargs = _kwargs(json.loads(self.request.body or b"null"))
        except json.JSONDecodeError:
            kwargs = None
            error = InvalidRequest("the request body is not JSON.")
        except TinyAIError as exc:
            kwargs, error = None, exc
        if kwargs is None:
            self._fail(400, error)
            return
        self._cancel = threading.Event()
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue = asyncio.Queue()
        client = self.settings["tinyai_client"]

        def produce():
            put = lambda item: loop.call_soon_threadsafe(lines.put_nowait, item)  # noqa: E731
            try:
                for chunk in client().complete(cancel=self._cancel, **kwargs):
                    if chunk.text:
                        put({"text": chunk.text})
                    if chunk.stats is not None:
                        put({"stats": chunk.stats.to_dict()})
            except TinyAIError as exc:
                put(exc)
            except Exception as exc:  # noqa: BLE001 - reported to the editor as one line
                put(InvalidRequest(f"the completion failed: {exc!r}"))
            finally:
                put(_END)

        loop.run_in_executor(None, produce)
        started = closed = False
        while True:
            item = await lines.get()
            if item is _END:
                break
            if isinstance(item, TinyAIError):
                if not started:
                    self._fail(404 if isinstance(item, ModelNotFound) else 400, item)
                    return
                item = {"error": item.to_dict()}
            if closed:
                continue  # the editor went away: the request is ending
            if not started:
                self.set_header("Content-Type", "application/x-ndjson")
                self.set_header("Cache-Control", "no-cache")
                started = True
            self.write(json.dumps(item) + "\n")
            try:
                await self.flush()
            except StreamClosedError:
                self._cancel.set()
                closed = True
        if not closed:
            self.finish()

    def _fail(self, status: int, error: TinyAIError) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(error.to_dict()))

    def on_connection_close(self):
        cancel = getattr(self, "_cancel", None)
        if cancel is not None:
            cancel.set()
