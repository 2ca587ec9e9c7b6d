"""Which model, adapter and load settings a request gets: one rule, for every client.

A request that names a model gets that model, for that request only. A request that names
none gets the model chosen for its client — ``c.TinyAI.model``, ``%tinyai use``, the
sidebar's picker — else the bundled default; never a model that another request left
loaded. The adapter and the load settings (context window, threads, backend, where models
are found, the remotes) are always the client's own, so nothing one request sets sticks to
the next.

One model state across front ends: a user's pick (a load request: ``%tinyai use``, the
panel, the sidebar's picker) is published with the loaded model (:mod:`.modelstate`), and
the sidebar and every kernel's magics follow it, so their requests name the picked model.

``Engine.load`` applies the rule; a ``HostClient`` sends its settings (:func:`settings_body`)
with every request and the host's engine applies the same rule to them.

    choice = choose(None, settings)   # what a plain request of this client gets
    choice.model                      # the name to resolve (None: the bundled default)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .backends.base import LoadSettings

#: what a client sends with every request so the host loads what that client chose
LOAD_SETTINGS = ("model", "adapter", "n_ctx", "threads", "backend", "models", "model_dirs", "scan_hf_cache",
                 "scan_lmstudio", "scan_ollama", "remotes", "memory_headroom_mb", "gpu_layers", "flash_attention",
                 "kv_cache_type", "thinking")
#: the settings that decide which model a name means (and so, with the name, which is loaded)
FINDING = ("backend", "models", "model_dirs", "scan_hf_cache", "scan_lmstudio", "scan_ollama", "remotes")


@dataclass(frozen=True)
class Choice:
    """What one request gets. Two equal choices load the same model the same way."""

    model: str | None  # the name to resolve: a path, an id or a short part of one; None: the bundled default
    adapter: str | None
    n_ctx: int
    threads: int  # 0: the backend chooses (fewer when the GPU does the work)
    gpu_layers: int
    flash_attention: str
    kv_cache_type: str
    finding: str  # the FINDING settings, as JSON

    def load_settings(self) -> LoadSettings:
        return LoadSettings(n_ctx=self.n_ctx, threads=self.threads, adapter=self.adapter, gpu_layers=self.gpu_layers,
                            flash_attention=self.flash_attention, kv_cache_type=self.kv_cache_type)


def choose(model: str | None, settings) -> Choice:
    """The rule: ``model`` if the request names one, else the client's chosen model
    (``settings.model``), else the bundled default; the adapter and load settings are
    always ``settings``'."""
    name = (model or "").strip() or (settings.model or "").strip() or None
    finding = {key: getattr(settings, key) for key in FINDING}
    return Choice(
        model=name,
        adapter=settings.adapter or None,
        n_ctx=settings.n_ctx,
        threads=settings.threads,
        gpu_layers=settings.gpu_layers,
        flash_attention=settings.flash_attention,
        kv_cache_type=settings.kv_cache_type,
        finding=json.dumps(finding, sort_keys=True, default=list),
    )


def callers_path(name):
    """``name`` with a relative path made absolute here, where the caller is (the shared host
    runs in a folder of its own); ids, short names and ``~`` paths are left as they are."""
    if not isinstance(name, str) or not name or name.startswith("~") or os.path.isabs(name):
        return name
    if ":" in name and not name.startswith(".") and not os.path.exists(name):  # an id: lab:model.gguf
        return name
    from .models import _looks_like_path

    return os.path.abspath(name) if os.path.exists(name) or _looks_like_path(name) else name


#: the settings that may name files: sent with relative paths made absolute (callers_path)
PATHS = ("model", "adapter", "models", "model_dirs")


def settings_body(settings) -> dict:
    """The :data:`LOAD_SETTINGS` of ``settings`` as JSON values (what a request carries)."""
    values = {}
    for name in LOAD_SETTINGS:
        value = getattr(settings, name)
        if isinstance(value, (list, tuple)):
            value = [callers_path(v) for v in value] if name in PATHS else list(value)
        elif name in PATHS:
            value = callers_path(value)
        elif isinstance(value, dict):
            value = json.loads(json.dumps(value))  # a plain copy; fails early on what JSON cannot carry
        values[name] = value
    for entry in values["remotes"].values():
        if isinstance(entry, dict) and "api_key" in entry:
            entry["api_key"] = "(not sent)"  # never a key on the wire; the host refuses such an entry
    return values
