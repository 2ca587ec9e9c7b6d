"""The loaded model as a stream of snapshots: what every front end shows as "the model".

The engine that holds the model (the host's, or an in-process one) publishes a snapshot on
each change; front ends follow it (the host's ``GET /tinyai/model/events``, relayed by the
Jupyter server to the sidebar; the ``%tinyai`` panel in a kernel) instead of keeping their
own idea of the model.

    events = ModelEvents()
    events.publish("loading", loading={"id": "llamacpp:x", "name": "x"})
    snap = events.wait(after=-1, timeout=1.0)   # the current snapshot at once
    snap["state"], snap["seq"]                   # "loading", 1

A snapshot (JSON)::

    seq        increases by one per change (a new host starts again at 0)
    event      what changed: "unloaded" | "loading" | "loaded" | "failed" | "picked" | "answered"
    state      "unloaded" | "loading" | "loaded"
    model      {"id", "name", "backend", "source", "path"} of the loaded model, or null
    loading    the same for the model being loaded, or null
    placement  where the loaded model runs ("CPU, 2 threads", "Metal, 30/30 layers"), or null
    picked     the id of the model last picked by a user (a load request), or null
    error      why the last load failed (cleared by the next load), or null
    last       the figures (Stats.to_dict()) of the loaded model's last answer, or null
"""

from __future__ import annotations

import copy
import threading

EVENTS = ("unloaded", "loading", "loaded", "failed", "picked", "answered")


def brief(spec) -> dict:
    """What a snapshot says about a model (a ModelSpec)."""
    return {"id": spec.id, "name": spec.name or spec.id, "backend": spec.backend, "source": spec.source,
            "path": spec.path}


def initial() -> dict:
    """The snapshot of an engine that has loaded nothing yet."""
    return {"seq": 0, "event": "unloaded", "state": "unloaded", "model": None, "loading": None, "placement": None,
            "picked": None, "error": None, "last": None}


class ModelEvents:
    """The current snapshot, and a way to wait for the next. Thread-safe."""

    def __init__(self):
        self._cond = threading.Condition()
        self._snapshot = initial()

    def snapshot(self) -> dict:
        with self._cond:
            return copy.deepcopy(self._snapshot)

    def publish(self, event: str, **changes) -> dict:
        """Apply ``changes`` (snapshot fields), name the change ``event``, wake the waiters."""
        if event not in EVENTS:
            raise ValueError(f"unknown model event {event!r}")
        with self._cond:
            snap = self._snapshot
            snap.update(changes)
            snap["event"] = event
            snap["seq"] += 1
            snap["state"] = "loading" if snap["loading"] else "loaded" if snap["model"] else "unloaded"
            self._cond.notify_all()
            return copy.deepcopy(snap)

    def wait(self, after: int, timeout: float | None) -> dict | None:
        """The snapshot once its ``seq`` is past ``after`` (at once if it is: ``after=-1``
        gives the current one); None when ``timeout`` seconds pass first."""
        with self._cond:
            if self._cond.wait_for(lambda: self._snapshot["seq"] > after, timeout):
                return copy.deepcopy(self._snapshot)
            return None
