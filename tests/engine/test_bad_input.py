"""Bad input gets one clear message saying what to do; nothing is loaded or lost."""

import os
import re
import subprocess
import sys

import psutil
import pytest
from helpers.gguf_files import tiny_model_metadata, write_gguf

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import InsufficientMemory, InvalidRequest, ModelFileError, ModelNotFound


@pytest.fixture
def fresh():
    engine = Engine(load_settings(host="inprocess"))
    yield engine
    engine.unload()


def test_unknown_model_name(fresh):
    with pytest.raises(ModelNotFound, match="no model named 'gpt-5'.*jupyter tinyai models"):
        fresh.load("gpt-5")


def test_path_that_does_not_exist(fresh, tmp_path):
    with pytest.raises(ModelNotFound, match="no file or folder"):
        fresh.load(str(tmp_path / "missing.gguf"))


def test_html_page_saved_as_gguf(fresh, tmp_path):
    page = tmp_path / "model.gguf"
    page.write_text("<html><head><title>Hugging Face</title></head></html>")
    with pytest.raises(ModelFileError, match="web page"):
        fresh.load(str(page))
    assert fresh.model is None


def test_truncated_gguf(fresh, tmp_path, model_path):
    cut = tmp_path / "cut.gguf"
    with open(model_path, "rb") as src:
        cut.write_bytes(src.read(30_000_000))
    with pytest.raises(ModelFileError, match="truncated.*download the file again"):
        fresh.load(str(cut))


def test_empty_file(fresh, tmp_path):
    empty = tmp_path / "empty.gguf"
    empty.touch()
    with pytest.raises(ModelFileError, match="empty"):
        fresh.load(str(empty))


def test_model_larger_than_memory_is_refused_before_loading(fresh, tmp_path):
    path = write_gguf(tmp_path / "Huge-70B.gguf", tiny_model_metadata(name="huge"))
    with open(path, "r+b") as handle:  # sparse: no disk used
        handle.truncate(2 * psutil.virtual_memory().total)
    with pytest.raises(InsufficientMemory, match=r"Huge-70B needs about [\d.]+ GB of memory .* only [\d.]+ GB is available"):
        fresh.load(path)
    assert fresh.model is None


@pytest.mark.model
def test_failed_load_keeps_the_loaded_model(fresh, tmp_path):
    fresh.load()
    bad = tmp_path / "bad.gguf"
    bad.write_text("nope")
    with pytest.raises(ModelFileError):
        fresh.load(str(bad))
    assert fresh.model is not None and fresh.model.source == "bundled"
    text, _ = fresh.ask("What is the capital of France?", conversation="after-bad-load")
    assert "Paris" in text


def test_llama_cpp_not_installed(tmp_path):
    code = (
        "import sys; sys.modules['llama_cpp'] = None\n"
        "from jupyter_tinyai.engine import Engine\n"
        "from jupyter_tinyai.config import load_settings\n"
        "from jupyter_tinyai.errors import BackendUnavailable\n"
        "try:\n    Engine(load_settings(host='inprocess')).load()\n"
        "except BackendUnavailable as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ)
    assert "pip install 'jupyter-tinyai[llama]'" in out.stdout, out.stderr
    assert "CMAKE_ARGS" in out.stdout


def test_headroom_above_free_memory_says_the_real_figures(tmp_path):
    """The refusal gives the memory available and the headroom setting, not "only 0 B"."""
    path = write_gguf(tmp_path / "Small.gguf", tiny_model_metadata(name="small"))
    headroom_mb = psutil.virtual_memory().available // 2**20 + 4096
    engine = Engine(load_settings(host="inprocess", memory_headroom_mb=headroom_mb))
    with pytest.raises(InsufficientMemory) as info:
        engine.load(path)
    message = str(info.value)
    assert re.search(r"only [\d.]+ [MGT]B is available and c\.TinyAI\.memory_headroom_mb keeps " + str(headroom_mb) + " MB free", message)
    assert " 0 B " not in message


def test_a_remote_model_is_not_refused_for_local_memory():
    from jupyter_tinyai.backends.base import LoadSettings
    from jupyter_tinyai.backends.remote import RemoteBackend
    from jupyter_tinyai.memory import check_fits
    from jupyter_tinyai.models.spec import ModelSpec
    from jupyter_tinyai.remotes.config import Remote

    remote = Remote.from_config("lab", {"url": "http://127.0.0.1:9/v1"})
    spec = ModelSpec(id="lab:m", name="m", backend="remote", format="remote", path=remote.url, source="lab", extra=remote.to_extra())
    check_fits(RemoteBackend(spec, LoadSettings()), headroom_mb=psutil.virtual_memory().total // 2**20 * 2)


@pytest.mark.parametrize("values, message", [
    ({"temperature": float("nan")}, "'temperature' must be a number from 0 to 2, not nan."),
    ({"temperature": 2.5}, "'temperature' must be a number from 0 to 2, not 2.5."),
    ({"max_tokens": -5}, "'max_tokens' must be a whole number from 1 to 1,000,000, not -5."),
    ({"max_tokens": 0}, "'max_tokens' must be a whole number from 1 to 1,000,000, not 0."),
    ({"seed": 1.5}, "'seed' must be a whole number from 0 to 4294967295, or -1 for a new seed each time, not 1.5."),
])
def test_chat_refuses_out_of_range_values_before_loading(fresh, values, message):
    with pytest.raises(InvalidRequest) as info:
        fresh.ask("Hi", **values)
    assert str(info.value) == message
    assert fresh.model is None


def test_a_prompt_far_beyond_the_context_is_refused_before_loading(fresh):
    from jupyter_tinyai.errors import PromptTooLong
    from jupyter_tinyai.prompts import max_prompt_chars

    limit = max_prompt_chars(fresh.settings.n_ctx)
    with pytest.raises(PromptTooLong, match=f"{limit:,} allowed.*Send less.*longer context"):
        list(fresh.chat("x" * (limit + 1)))
    assert fresh.model is None  # refused at the door: nothing loaded, nothing queued
