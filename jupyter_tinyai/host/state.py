"""What every connection of the host shares: the engine, the queue, the requests known by
id (so a client can cancel one), the host's own settings, its status, and its timers."""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid

from .. import models
from .._version import __version__
from ..choice import LOAD_SETTINGS, settings_body
from ..scheduler import Request, Scheduler
from ..watch import every
from . import runtime
from .engine import HostEngine
from .protocol import BadRequest


class HostState:
    """What every connection of the host shares: the engine, the queue, the timers."""

    def __init__(self, settings, keep_alive: int, idle_exit: int):
        self.engine = HostEngine(settings)
        self.base = settings_body(settings)  # the host's own settings, for requests that send none
        self.scheduler = Scheduler()
        self.requests: dict[str, Request] = {}
        self.requests_lock = threading.Lock()
        self.keep_alive = keep_alive
        self.idle_exit = idle_exit
        self.started = time.time()
        self.info: dict = {}
        self.stop = threading.Event()
        self.listeners: list = []

    # -- requests -----------------------------------------------------------------------

    def register(self, rid: str | None, kind: str) -> Request:
        req = Request(rid or uuid.uuid4().hex, kind)
        with self.requests_lock:
            self.requests[req.id] = req
        return req

    def forget(self, req: Request) -> None:
        with self.requests_lock:
            self.requests.pop(req.id, None)

    def cancel(self, rid: str) -> bool:
        with self.requests_lock:
            req = self.requests.get(rid)
        if req is None:
            return False
        req.cancel.set()
        return True

    def apply_settings(self, values: dict) -> None:
        """Use the settings a client sent with its request (its model, adapter, load
        settings and remotes), and the host's own for those it did not send: nothing one
        request sets sticks to the next. The engine reloads when its choice differs."""
        if not isinstance(values, dict):
            raise BadRequest("'settings' must be a JSON object.")
        settings = self.engine.settings
        for name in LOAD_SETTINGS:
            value = values[name] if values.get(name) is not None else self.base[name]
            if getattr(settings, name) != value:
                try:
                    setattr(settings, name, value)
                except Exception as exc:  # noqa: BLE001 - traitlets' TraitError and friends
                    raise BadRequest(f"bad value for setting {name!r}: {exc}") from None
        keys = values.get("keys_set") or []
        self.engine.keys_set = {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()

    def check_model(self, name: str | None, files_only: bool = False) -> None:
        """Refuse at the door, with a 4xx before any stream starts, a model that cannot be used
        (``/etc/passwd``: ModelFileError). With ``files_only`` only an existing file is checked:
        what a name means is decided in the request's turn, by the settings it brings."""
        loaded = self.engine.model
        if not name or (loaded is not None and name == loaded.id):
            return
        if files_only and not os.path.isfile(os.path.expanduser(name)):
            return
        models.resolve(name, self.engine.settings)

    def status(self) -> dict:
        status = self.engine.status()
        idle = self.scheduler.idle_seconds()
        status["host"] = {
            "pid": os.getpid(),
            "version": __version__,
            "started": self.started,
            "uptime_s": time.time() - self.started,
            "keep_alive_s": self.keep_alive,
            "idle_exit_s": self.idle_exit,
            "idle_s": idle,
            "unload_in_s": max(0.0, self.keep_alive - idle) if self.keep_alive and status["model"] else None,
            "exit_in_s": max(0.0, self.idle_exit - idle) if self.idle_exit and not self.ports() else None,
            "queue": self.scheduler.waiting(),
            "busy": self.scheduler.running is not None,
            "socket": self.info.get("socket"),
            "ports": self.ports(),
            "log": runtime.log_file(),
        }
        return status

    def ports(self) -> list[int]:
        return [s.server_address[1] for s in self.listeners if isinstance(s.server_address, tuple) and s.public]

    # -- timers -------------------------------------------------------------------------

    def start_timers(self) -> None:
        """Every half second until the host stops: unload the model after keep_alive idle
        seconds, exit after idle_exit; every two seconds, exit when the runtime file names
        another host."""
        ticks = itertools.count(1)
        every(0.5, lambda: self._tick(next(ticks)), until=self.stop, name="tinyai-housekeeping")

    def _tick(self, tick: int) -> bool:
        if tick % 4 == 0 and not self._still_registered():
            print("the runtime file no longer names this host: exiting", flush=True)
            self.shutdown()
            return True
        idle = self.scheduler.idle_seconds()
        if self.keep_alive and idle >= self.keep_alive and self.engine.model is not None:
            with self.scheduler.try_turn() as ours:
                if ours:
                    self.engine.unload()
        if self.idle_exit and idle >= self.idle_exit and not self.ports():
            with self.scheduler.try_turn() as ours:
                if ours:
                    self.shutdown()
        return False

    def _still_registered(self) -> bool:
        """Clients find a host only through the runtime file: one it no longer names (removed,
        or replaced by another host) is unreachable and should go."""
        info = runtime.read_info()
        return info is not None and info.get("pid") == os.getpid()

    def shutdown(self) -> None:
        """Stop taking requests: clients no longer find this host (they start a new one);
        requests already queued still finish (see :func:`run`)."""
        if self.stop.is_set():
            return
        runtime.remove_info(os.getpid())
        self.stop.set()
        for server in self.listeners:
            threading.Thread(target=server.shutdown, daemon=True).start()
