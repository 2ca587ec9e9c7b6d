"""The engine publishes its model (jupyter_tinyai.modelstate): "loading X" while X loads,
then loaded with its placement, picked for a user's load; an answer's figures."""

from __future__ import annotations

import pytest

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]

BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"


def test_loading_then_loaded_then_picked_then_answered():
    engine = Engine(load_settings(host="inprocess"))
    during = []
    try:
        engine.load(progress=lambda fraction, message: during.append(engine.events.snapshot()))
        assert during and during[0]["state"] == "loading" and during[0]["loading"]["id"] == BUNDLED
        assert during[0]["loading"]["source"] == "bundled"
        snap = engine.events.snapshot()
        assert (snap["event"], snap["state"], snap["model"]["id"], snap["picked"]) == ("picked", "loaded", BUNDLED, BUNDLED)
        assert snap["placement"].startswith("CPU")
        seq = snap["seq"]
        engine.load()  # already loaded: nothing changes but the pick
        assert engine.events.snapshot()["seq"] == seq + 1
        engine.ask("Hello", max_tokens=3)
        snap = engine.events.snapshot()
        assert snap["event"] == "answered" and snap["last"]["model"] == BUNDLED
        follower = engine.model_events()
        assert next(follower)["seq"] == snap["seq"]  # the current snapshot first
        engine.unload()
        assert next(follower)["state"] == "unloaded"
    finally:
        engine.unload()


def test_a_load_that_fails_is_published_and_the_loaded_model_stays(model_path, tmp_path):
    engine = Engine(load_settings(host="inprocess"))
    try:
        engine.load()
        other = tmp_path / "other-model.gguf"
        other.symlink_to(model_path)
        engine.settings.memory_headroom_mb = 10**9  # no model fits now
        with pytest.raises(Exception, match="memory"):
            engine.load(str(other))
        snap = engine.events.snapshot()
        assert (snap["event"], snap["state"], snap["model"]["id"]) == ("failed", "loaded", BUNDLED)
        assert "other-model" in snap["error"] and snap["loading"] is None
    finally:
        engine.unload()
