"""The loaded model, pushed to the sidebar: ``GET <base>/tinyai/model/events`` streams the
host's snapshots (:mod:`jupyter_tinyai.modelstate`) as Server-Sent Events ``model``, the
current one first.

One :class:`ModelStateRelay` per server follows the model client (the host's event
stream, or an in-process engine's) in a thread and fans each snapshot out to the open
streams; while no host runs it says so (an empty snapshot) and looks again every second.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..modelstate import initial
from .handlers import TinyAIHandler

KEEPALIVE_S = 15.0  # a comment line on a silent stream, so proxies keep it open
RETRY_S = 1.0  # without a host: how often to look for one


class ModelStateRelay:
    """Follows the model client's snapshots in a thread; ``subscribe()`` gives an asyncio
    queue that gets the latest snapshot at once, then each new one."""

    def __init__(self, client: Callable[[], object]):
        self.client = client
        self.latest: dict | None = None
        self._queues: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self) -> asyncio.Queue:
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        if self.latest is not None:
            queue.put_nowait(self.latest)
        self._queues.add(queue)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tinyai-model-relay", daemon=True)
            self._thread.start()
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._queues.discard(queue)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                client = self.client()
                followed = False
                for snap in client.model_events(stop=self._stop):
                    followed = True
                    self._publish(snap)
                if not followed:  # no host runs: nothing is loaded
                    self._publish({**initial(), "host": False})
            except Exception:  # noqa: BLE001 - a host that went away mid-stream: look again
                pass
            self._stop.wait(RETRY_S)

    def _publish(self, snap: dict) -> None:
        if snap == self.latest:
            return
        self.latest = snap
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._fan_out, snap)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def _fan_out(self, snap: dict) -> None:
        for queue in list(self._queues):
            queue.put_nowait(snap)


class ModelEventsHandler(TinyAIHandler):
    """``GET tinyai/model/events``: the loaded model's snapshots as SSE (authenticated, "read")."""

    @property
    def relay(self) -> ModelStateRelay:
        return self.settings["tinyai_model_relay"]

    @web.authenticated
    @authorized
    async def get(self):
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        queue = self.relay.subscribe()
        try:
            self.write(": model events\n\n")
            await self.flush()
            while True:
                try:
                    snap = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    self.write(": keep-alive\n\n")
                else:
                    self.write(f"event: model\ndata: {json.dumps(snap)}\n\n")
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            self.relay.unsubscribe(queue)
