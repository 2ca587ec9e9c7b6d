"""Listing remote models, resolving ``lab:model`` ids, token counting, the CLI, privacy:
no remote is contacted unless configured, and the key never appears in any output."""

from __future__ import annotations

import json

import pytest

from jupyter_tinyai import cli, models
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.remotes.connection import Connection
from jupyter_tinyai.types import Message

from .conftest import ALIAS, API_KEY, KEY_ENV, N_CTX, free_port

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def no_remote_calls(monkeypatch):
    """Fail the test if anything opens a connection to a remote."""
    calls = []

    def refuse(self, method, url, body=None):
        calls.append(url)
        raise AssertionError(f"a remote was contacted: {method} {url}")

    monkeypatch.setattr(Connection, "open", refuse)
    return calls


@pytest.mark.model
def test_lists_the_remote_models_beside_local_ones(remote_settings, server):
    specs = models.list_models(remote_settings)
    remote = [m for m in specs if m.remote]
    assert [m.id for m in remote] == [f"lab:{ALIAS}"]
    spec = remote[0]
    assert (spec.backend, spec.format, spec.source, spec.name, spec.path) == ("remote", "remote", "lab", ALIAS, server.url)
    assert spec.context_length == N_CTX
    assert any(m.backend == "llamacpp" for m in specs), "local models are still listed"


@pytest.mark.model
def test_a_down_remote_is_one_warning_not_a_crash(remote_settings, monkeypatch):
    remotes = dict(remote_settings.remotes)
    remotes["down"] = {"url": f"http://127.0.0.1:{free_port()}", "api_key_env": KEY_ENV}
    settings = load_settings(host="inprocess", remotes=remotes)
    specs = models.list_models(settings)
    warnings = [m for m in specs if m.warning]
    assert len(warnings) == 1 and warnings[0].source == "down"
    message = warnings[0].warning
    assert "'down'" in message and "cannot reach" in message and "\n" not in message
    assert f"lab:{ALIAS}" in [m.id for m in specs]


def test_nothing_is_contacted_without_remotes(no_remote_calls):
    settings = load_settings(host="inprocess")
    assert not [m for m in models.list_models(settings) if m.remote]
    assert models.resolve(None, settings).backend == "llamacpp"
    assert no_remote_calls == []


@pytest.mark.model
def test_local_names_never_pick_a_remote_model(remote_settings, no_remote_calls):
    """With a remote configured, a local name resolves locally without contacting it, and a
    remote model's bare name does not match: remote models are chosen by their full id."""
    assert models.resolve("SmolLM2", remote_settings).backend == "llamacpp"
    with pytest.raises(models.ModelNotFound):
        models.resolve(ALIAS + "-remote-only", remote_settings)
    assert no_remote_calls == []


@pytest.mark.model
def test_short_remote_id_resolves(remote_settings):
    assert models.resolve("lab:smol", remote_settings).id == f"lab:{ALIAS}"


@pytest.mark.model
def test_token_counts_use_the_servers_tokenizer(remote_settings, model_path):
    import llama_cpp

    engine = Engine(remote_settings)
    engine.load(f"lab:{ALIAS}")
    backend = engine._backend
    assert not backend.tokens_estimated
    text = "The quick brown fox jumps over the lazy dog. Schrödinger's 猫."
    vocab = llama_cpp.Llama(model_path=model_path, vocab_only=True, verbose=False)
    assert backend.count_text(text) == len(vocab.tokenize(text.encode("utf-8"), special=True))
    short = backend.count_tokens([Message("user", "Hi")])
    longer = backend.count_tokens([Message("system", "Be brief."), Message("user", "Hi")])
    assert longer > short > backend.count_text("Hi")


@pytest.mark.model
def test_without_a_tokenize_endpoint_counts_are_marked_estimated(remote_engine):
    remote_engine.load(f"lab:{ALIAS}")
    remote_engine._backend._tokenizer = None  # as on a server without a tokenize endpoint (Ollama)
    remote_engine._backend._count_cache.clear()
    chunks = list(remote_engine.chat("What is the capital of France?", model=f"lab:{ALIAS}", conversation="est", temperature=0))
    assert "Paris" in "".join(c.text for c in chunks)
    last = chunks[-1]
    assert last.stats is not None and last.notice and "estimated" in last.notice and "'lab'" in last.notice
    assert last.stats.prompt_tokens > 0 and last.stats.generated_tokens > 0


@pytest.mark.model
def test_the_key_never_shows_in_status_listing_stats_or_history(remote_engine):
    text, stats = remote_engine.ask("What is the capital of France?", model=f"lab:{ALIAS}", conversation="k", temperature=0)
    outputs = [
        json.dumps(remote_engine.status()),
        json.dumps([m.to_dict() for m in remote_engine.list_models()]),
        json.dumps(stats.to_dict()),
        json.dumps([m.to_dict() for m in remote_engine.history("k")]),
        text,
    ]
    for output in outputs:
        assert API_KEY not in output
    status = remote_engine.status()
    assert status["model"]["extra"]["api_key_env"] == KEY_ENV  # only the variable's name


def _write_config(home, remotes):
    import os

    path = os.path.join(os.environ["JUPYTER_CONFIG_DIR"], "jupyter_tinyai_config.json")
    with open(path, "w") as f:
        json.dump({"TinyAI": {"remotes": remotes}}, f)


@pytest.mark.model
def test_cli_models_marks_remote_models_and_warns(server, isolated_home, monkeypatch, capsys):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    _write_config(isolated_home, {
        "lab": {"url": server.url, "api_key_env": KEY_ENV},
        "down": {"url": f"http://127.0.0.1:{free_port()}/v1"},
    })
    assert cli.main(["models", "--in-process"]) == 0
    out, err = capsys.readouterr()
    row = next(line for line in out.splitlines() if line.startswith(f"lab:{ALIAS}"))
    assert "remote" in row and f"remote lab: {server.url}" in row
    assert not any(line.startswith("down:") for line in out.splitlines())
    assert err.count("warning: remote 'down'") == 1
    assert API_KEY not in out + err


@pytest.mark.model
def test_cli_ask_on_a_remote(server, isolated_home, monkeypatch, capsys):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    _write_config(isolated_home, {"lab": {"url": server.url, "api_key_env": KEY_ENV, "n_ctx": N_CTX}})
    assert cli.main(["ask", "--in-process", "-m", f"lab:{ALIAS}", "What is the capital of France?"]) == 0
    out, err = capsys.readouterr()
    assert "Paris" in out
    assert f"lab:{ALIAS}" in err  # the figures line names the remote model
    assert API_KEY not in out + err
