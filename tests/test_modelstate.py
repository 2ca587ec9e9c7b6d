"""The loaded model as snapshots (jupyter_tinyai.modelstate): the state follows the
fields, each change wakes the waiters, and a waiter gets the current snapshot at once."""

from __future__ import annotations

import threading

import pytest

from jupyter_tinyai.modelstate import ModelEvents

SMALL = {"id": "llamacpp:small", "name": "small", "backend": "llamacpp", "source": "bundled"}


def test_the_state_follows_what_is_loading_and_loaded():
    events = ModelEvents()
    assert events.snapshot()["state"] == "unloaded"
    snap = events.publish("loading", loading=SMALL)
    assert (snap["seq"], snap["event"], snap["state"]) == (1, "loading", "loading")
    snap = events.publish("loaded", loading=None, model=SMALL, placement="CPU, 2 threads")
    assert (snap["state"], snap["model"]["id"], snap["placement"]) == ("loaded", "llamacpp:small", "CPU, 2 threads")
    snap = events.publish("failed", loading=None, error="big: not enough memory")
    assert (snap["state"], snap["model"], snap["error"]) == ("loaded", SMALL, "big: not enough memory")
    assert events.publish("unloaded", model=None)["state"] == "unloaded"


def test_a_waiter_gets_the_current_snapshot_at_once_then_the_next_change():
    events = ModelEvents()
    assert events.wait(-1, 0)["seq"] == 0
    assert events.wait(0, 0.01) is None
    got = []
    waiter = threading.Thread(target=lambda: got.append(events.wait(0, 30)))
    waiter.start()
    events.publish("picked", picked="llamacpp:small")
    waiter.join(30)
    assert got[0]["picked"] == "llamacpp:small" and got[0]["event"] == "picked"


def test_a_snapshot_is_a_copy_and_unknown_events_are_refused():
    events = ModelEvents()
    events.publish("loaded", model=dict(SMALL))
    events.snapshot()["model"]["id"] = "changed"
    assert events.snapshot()["model"]["id"] == "llamacpp:small"
    with pytest.raises(ValueError):
        events.publish("exploded")


def test_the_panel_line_of_a_snapshot():
    from jupyter_tinyai.status import state_line

    events = ModelEvents()
    assert state_line(events.snapshot()).startswith("no model loaded")
    assert state_line(events.publish("loading", loading=SMALL)) == "Loading small…"
    snap = events.publish("loaded", loading=None, model=SMALL, placement="CPU, 2 threads")
    assert state_line(snap) == "small · CPU, 2 threads"
    snap = events.publish("answered", last={"model": "llamacpp:small", "tokens_per_s": 70.04})
    assert state_line(snap) == "small · CPU, 2 threads · 70.0 tokens/s"
    other = events.publish("loaded", model={**SMALL, "id": "llamacpp:big", "name": "big"})
    assert state_line(other) == "big · CPU, 2 threads"  # not the other model's speed
    assert state_line(events.publish("failed", error="huge: not enough memory")) == "Could not load huge: not enough memory"
