"""The shared host does not run in the folder of the client that started it: modules there
are not imported by it, and a relative model path is the caller's, whoever started it."""

from __future__ import annotations

import os

import pytest

from jupyter_tinyai.host.client import HostClient

SHADOW = 'raise ImportError("the uuid.py of the folder the first client ran in")\n'


def test_the_host_imports_nothing_from_the_folder_it_was_started_in(tmp_path, monkeypatch, settings):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "uuid.py").write_text(SHADOW)  # a notebook folder's own module, named like the stdlib's
    monkeypatch.chdir(folder)
    info = HostClient(settings).host_info()
    assert info["pid"] != os.getpid()
    assert HostClient(settings).status()["host"]["running"]


@pytest.mark.model
def test_a_relative_model_path_is_the_callers_folder(tmp_path, monkeypatch, settings, model_path):
    first, mine = tmp_path / "first", tmp_path / "mine"
    first.mkdir()
    mine.mkdir()
    monkeypatch.chdir(first)
    HostClient(settings).host_info()  # a client in another folder starts the host
    os.symlink(model_path, mine / "my-model.gguf")
    monkeypatch.chdir(mine)
    text, stats = HostClient(settings).ask("Hi", model="./my-model.gguf", conversation="rel", max_tokens=3)
    assert stats.model.endswith("my-model") and stats.generated_tokens > 0
    # the same for the client's configured model, given as a relative path
    settings.model = "my-model.gguf"
    assert HostClient(settings).ask("Hi", conversation="rel2", max_tokens=3)[1].model.endswith("my-model")


def test_only_relative_paths_are_made_absolute(tmp_path, monkeypatch):
    from jupyter_tinyai.choice import callers_path

    monkeypatch.chdir(tmp_path)
    assert callers_path("./m.gguf") == str(tmp_path / "m.gguf")
    assert callers_path("models/m.gguf") == str(tmp_path / "models" / "m.gguf")
    for name in ("smollm2", "llamacpp:SmolLM2-135M-Instruct-Q4_1", "lab:qwen2.5-1.5b-q4_k_m.gguf", "~/m.gguf", "", None):
        assert callers_path(name) == name, "ids, remote ids and ~ paths are the host's to resolve"
