"""The catalog and pulls for the sidebar: ``tinyai/catalog`` and ``tinyai/pulls``.

    GET    tinyai/catalog      the catalog with a fit badge for this machine (as `models --recommend --json`)
    GET    tinyai/pulls        every pull of this server: running, done, failed or cancelled
    POST   tinyai/pulls        {"name", "quant"?, "force"?} starts a pull (202), or joins the one running
    DELETE tinyai/pulls/ID     cancels a running pull (its partial file is kept), forgets a finished one

A pull runs in a thread of the server process, so it goes on while browsers reload; a page
finds it again with GET tinyai/pulls. Two requests for the same NAME get the same pull; two
names for the same file share one download (:func:`jupyter_tinyai.models.download.fetch`).
Nothing is downloaded but on a POST. Every handler is authenticated and authorized as the
others (resource ``"tinyai"``).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import InternalError, PullCancelled, TinyAIError

AUTH_RESOURCE = "tinyai"
#: finished pulls kept in the listing (the newest), so a reloaded page still sees how one ended
KEEP_FINISHED = 20


@dataclass
class Pull:
    """One pull of this server, as the sidebar shows it."""

    name: str
    quant: str | None = None
    force: bool = False
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: str = "running"  # running | done | failed | cancelled
    progress: dict | None = None  # the last download.Progress, as a dict, with its one-line message
    error: dict | None = None
    model: dict | None = None  # the pulled model, as GET tinyai/models lists it
    started: float = field(default_factory=time.time)
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def key(self) -> tuple:
        return (self.name.strip().lower(), (self.quant or "").upper())

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "quant": self.quant, "state": self.state,
                "progress": self.progress, "error": self.error, "model": self.model, "started": self.started}


class Pulls:
    """Every pull of this server process."""

    def __init__(self, settings_of):
        self.settings_of = settings_of  # () -> TinyAI: the server's settings (n_ctx, memory headroom, backend)
        self.items: dict[str, Pull] = {}
        self.lock = threading.Lock()

    def start(self, name: str, quant: str | None = None, force: bool = False) -> tuple[Pull, bool]:
        """(the pull, True when this call started it); a running pull of the same NAME is joined."""
        wanted = Pull(name, quant or None, force)
        with self.lock:
            for pull in self.items.values():
                if pull.state == "running" and pull.key == wanted.key:
                    return pull, False
            self.items[wanted.id] = wanted
            self._trim()
        threading.Thread(target=self._run, args=(wanted,), name=f"tinyai-pull-{wanted.id}", daemon=True).start()
        return wanted, True

    def _run(self, pull: Pull) -> None:
        from ..models.pull import pull_file

        def progress(p) -> None:
            pull.progress = {**p.to_dict(), "message": p.message(), "fraction": p.fraction}

        try:
            pulled = pull_file(pull.name, pull.quant, force=pull.force, progress=progress, cancel=pull.cancel,
                               settings=self.settings_of())
        except PullCancelled as stopped:
            pull.error, pull.state = stopped.to_dict(), "cancelled"
        except TinyAIError as error:
            pull.error, pull.state = error.to_dict(), "failed"
        except Exception as error:  # noqa: BLE001 - a pull never fails silently
            failed = InternalError(f"the pull failed ({type(error).__name__}: {error}); the Jupyter server log has the details.")
            pull.error, pull.state = failed.to_dict(), "failed"
        else:
            pull.model = pulled.spec.to_dict()
            pull.state = "done"

    def cancel(self, pull_id: str) -> Pull | None:
        """Stop a running pull (the partial file is kept for a resume), forget a finished one."""
        with self.lock:
            pull = self.items.get(pull_id)
            if pull is None:
                return None
            if pull.state != "running":
                del self.items[pull_id]
        pull.cancel.set()
        return pull

    def listing(self) -> list:
        with self.lock:
            return [p.to_dict() for p in sorted(self.items.values(), key=lambda p: p.started)]

    def _trim(self) -> None:
        finished = sorted((p for p in self.items.values() if p.state != "running"), key=lambda p: p.started)
        for pull in finished[: max(len(finished) - KEEP_FINISHED, 0)]:
            del self.items[pull.id]


def catalog_listing(settings) -> dict:
    """The catalog with this machine's badges and which entries are already pulled."""
    from ..memory import memory_budget
    from ..models import catalog
    from ..models.pulled import is_pulled, pulled_builds

    budget = memory_budget()
    offers = catalog.recommend(settings, budget)
    builds = pulled_builds()
    models = []
    for offer in offers:
        data = offer.to_dict()
        data["pulled"] = is_pulled(offer, builds)
        models.append(data)
    return {
        "machine": {"total_bytes": budget.total_bytes, "available_bytes": budget.available_bytes,
                    "gpu_working_set_bytes": budget.gpu_working_set_bytes, "usable_bytes": budget.usable_bytes},
        "n_ctx": settings.n_ctx,
        "models": models,
        "best": {role: (o.entry.name if o else None) for role in catalog.ROLES for o in [catalog.best(offers, role)]},
    }


class _Handler(APIHandler):
    auth_resource = AUTH_RESOURCE

    def tinyai_settings(self):
        from ..config import load_settings

        return load_settings(config=self.config)

    @property
    def pulls(self) -> Pulls:
        return self.settings["tinyai_pulls"]


class CatalogHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self):
        settings = self.tinyai_settings()
        self.finish(await asyncio.get_running_loop().run_in_executor(None, catalog_listing, settings))


class PullsHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self):
        self.finish({"pulls": self.pulls.listing()})

    @web.authenticated
    @authorized
    async def post(self):
        body = self.get_json_body() or {}
        name, quant, force = body.get("name"), body.get("quant"), body.get("force", False)
        if not isinstance(name, str) or not name.strip():
            raise web.HTTPError(400, "the body must be {\"name\": <catalog name, org/repo or org/repo/file.gguf>}")
        if quant is not None and not isinstance(quant, str):
            raise web.HTTPError(400, "'quant' must be a quantization such as \"Q8_0\"")
        if not isinstance(force, bool):
            raise web.HTTPError(400, "'force' must be true or false")
        pull, started = self.pulls.start(name.strip(), quant, force)
        self.set_status(202 if started else 200)
        self.finish({"pull": pull.to_dict()})


class PullHandler(_Handler):
    @web.authenticated
    @authorized
    async def get(self, pull_id):
        pull = self.pulls.items.get(pull_id)
        if pull is None:
            raise web.HTTPError(404, f"no pull {pull_id}")
        self.finish({"pull": pull.to_dict()})

    @web.authenticated
    @authorized
    async def delete(self, pull_id):
        pull = self.pulls.cancel(pull_id)
        if pull is None:
            raise web.HTTPError(404, f"no pull {pull_id}")
        self.finish({"pull": pull.to_dict()})


def catalog_handlers(web_app, base: str) -> list:
    """The routes of this module (the server's settings come from ``web_app``)."""
    from ..config import load_settings

    web_app.settings["tinyai_pulls"] = Pulls(lambda: load_settings(config=web_app.settings.get("config")))
    return [
        (url_path_join(base, "catalog"), CatalogHandler),
        (url_path_join(base, "pulls"), PullsHandler),
        (url_path_join(base, "pulls", r"([\w-]+)"), PullHandler),
    ]
