"""The Client contract, run against an in-process Engine and a HostClient of a real host,
with the real bundled model: one rule for which model, adapter and load settings a request
gets (jupyter_tinyai.choice), and a model that does not fit never unloads the one in use."""

from __future__ import annotations

import os
import uuid

import pytest
from helpers.fake_remote import CountingRemote
from helpers.hosts import kill_hosts_of
from helpers.lora import write_gguf_lora

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import InsufficientMemory
from jupyter_tinyai.types import Client

pytestmark = [pytest.mark.model, pytest.mark.timeout(600)]

PROMPT = "What is the capital of France?"
BUNDLED = "llamacpp:SmolLM2-135M-Instruct-Q4_1"
OTHER = "llamacpp:other-model"


@pytest.fixture
def remote():
    server = CountingRemote("m1")
    yield server
    server.stop()


@pytest.fixture
def other(model_path, tmp_path):
    """A second local model: the bundled file under another name."""
    path = tmp_path / "other-model.gguf"
    path.symlink_to(model_path)
    return str(path)


@pytest.fixture(params=["engine", "host"])
def client(request, remote):
    """A client of each kind, with the counting remote configured as "lab"."""
    remotes = {"lab": {"url": remote.url}}
    if request.param == "engine":
        from jupyter_tinyai.engine import Engine

        engine = Engine(load_settings(host="inprocess", remotes=remotes))
        yield engine
        engine.unload()
    else:
        from jupyter_tinyai.host.client import HostClient

        yield HostClient(load_settings(host="auto", remotes=remotes))
        kill_hosts_of(os.environ["JUPYTER_RUNTIME_DIR"])


def ask(client, prompt=PROMPT, **kwargs):
    return client.ask(prompt, conversation=uuid.uuid4().hex, max_tokens=8, **kwargs)


def test_both_are_clients(client):
    assert isinstance(client, Client)


def test_a_plain_request_gets_the_chosen_model_not_the_last_one(client, other):
    assert ask(client, model=other)[1].model == OTHER
    text, stats = ask(client)
    assert stats.model == BUNDLED and "Paris" in text  # the default, although OTHER is loaded
    client.settings.model = other  # this client's chosen model (%tinyai use, c.TinyAI.model)
    assert ask(client)[1].model == OTHER
    assert ask(client, model=BUNDLED)[1].model == BUNDLED  # -m: for that answer only
    assert ask(client)[1].model == OTHER
    assert client.load().id == OTHER


def test_the_adapter_is_the_clients_and_never_sticks(client, other, model_path, tmp_path):
    adapter = write_gguf_lora(tmp_path / "zero-lora.gguf", model_path, zero_b=True)
    assert ask(client)[1].adapter == ""
    client.settings.adapter = adapter  # --adapter without -m: applied to the default model
    text, stats = ask(client)
    assert (stats.model, stats.adapter) == (BUNDLED, adapter) and "Paris" in text
    assert client.status()["adapter"] == adapter
    assert ask(client, model=other)[1].adapter == adapter  # -m X --adapter A
    client.settings.adapter = ""
    text, stats = ask(client)  # then a plain request: the default model, no adapter
    assert (stats.model, stats.adapter) == (BUNDLED, "") and "Paris" in text
    assert not client.status()["adapter"]


def test_a_remote_gets_only_the_requests_that_name_it(client, remote):
    text, stats = ask(client, model="lab:m1")
    assert text == remote.answer and stats.model == "lab:m1" and remote.chats() == 1
    seen = len(remote.requests)
    text, stats = ask(client, "What is the capital of France? (secret)")
    assert stats.model == BUNDLED and "Paris" in text
    assert client.count_tokens("secret") > 0
    assert client.load().id == BUNDLED
    assert remote.requests[seen:] == []  # nothing after the remote's own answer


def test_a_model_that_does_not_fit_keeps_the_loaded_one(client, other):
    assert client.load().id == BUNDLED
    client.settings.memory_headroom_mb = 1024**3  # a petabyte kept free: nothing new fits
    with pytest.raises(InsufficientMemory):
        ask(client, model=other)
    assert client.status()["model"]["id"] == BUNDLED
    text, stats = ask(client)  # the loaded model answers: nothing had to be loaded
    assert stats.model == BUNDLED and "Paris" in text
