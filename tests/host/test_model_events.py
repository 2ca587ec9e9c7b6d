"""The host publishes its loaded model (GET /tinyai/model/events): a client following it
sees a pick made by another client (loading, loaded with its placement, picked), an
answer's figures, and an unload, as they happen."""

from __future__ import annotations

import queue
import threading

import pytest

from jupyter_tinyai.host.client import HostClient

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]

BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"


def follow(settings):
    """A second client following the host's model events in a thread: (queue, stop)."""
    got: queue.Queue = queue.Queue()
    stop = threading.Event()

    def run():
        for snap in HostClient(settings).model_events(stop=stop):
            got.put(snap)
        got.put(None)

    threading.Thread(target=run, daemon=True).start()
    return got, stop


def until(got: queue.Queue, event: str) -> list[dict]:
    seen = []
    while True:
        snap = got.get(timeout=120)
        assert snap is not None, f"the stream ended before {event!r}: {seen}"
        seen.append(snap)
        if snap["event"] == event:
            return seen


def test_a_follower_sees_picks_answers_and_unloads_made_elsewhere(client, settings, model_path, tmp_path):
    client.load()  # starts the host with the bundled model
    got, stop = follow(settings)
    try:
        first = got.get(timeout=60)
        assert first["state"] == "loaded" and first["model"]["id"] == BUNDLED and first["picked"] == BUNDLED
        other = tmp_path / "other-model.gguf"
        other.symlink_to(model_path)
        client.load(str(other))  # a pick in another front end
        seen = until(got, "picked")  # quick changes may come as one snapshot: the latest
        assert all(s["loading"]["id"] == "llamacpp:other-model" for s in seen if s["state"] == "loading")
        picked = seen[-1]
        assert (picked["model"]["id"], picked["model"]["name"]) == ("llamacpp:other-model", "other-model")
        assert picked["placement"].startswith("CPU") and picked["picked"] == "llamacpp:other-model"
        assert picked["seq"] >= first["seq"] + 4  # loading, unloaded, loaded, picked
        client.ask("Hello", model=str(other), max_tokens=4)  # e.g. a %%ask
        answered = until(got, "answered")[-1]
        assert answered["last"]["model"] == "llamacpp:other-model" and answered["last"]["generated_tokens"] > 0
        client.unload()
        gone = until(got, "unloaded")[-1]
        assert (gone["state"], gone["model"], gone["last"]) == ("unloaded", None, None)
    finally:
        stop.set()
    assert until_end(got)


def until_end(got: queue.Queue) -> bool:
    """The follower's iterator ends soon after stop is set."""
    while True:
        if got.get(timeout=30) is None:
            return True


def test_without_a_host_there_are_no_events_and_none_is_started(client):
    assert list(client.model_events()) == []
    assert client.host_info(start=False) is None
