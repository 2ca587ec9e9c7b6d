"""Apple Silicon gets MLX out of the box: the dependency markers, and `auto` choosing MLX for
the GGUF files MLX reads and llama.cpp (Metal) for the others, decided when listing."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
from helpers.gguf_files import write_gguf
from packaging.markers import default_environment
from packaging.requirements import Requirement

from jupyter_tinyai import hardware
from jupyter_tinyai.backends.choice import gguf_backend
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.models import list_models, resolve

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own dependency
    import tomli as tomllib

PYPROJECT = pathlib.Path(__file__).resolve().parents[2] / "pyproject.toml"

PLATFORMS = {
    "macOS arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix"},
    "macOS x86_64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "x86_64", "os_name": "posix"},
    "Linux x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
    "Windows": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
}


def installed_by_default(platform: str) -> set[str]:
    """The dependencies a plain `pip install jupyter-tinyai` installs on ``platform``."""
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    env = {**default_environment(), **PLATFORMS[platform], "extra": ""}
    return {r.name for r in map(Requirement, dependencies) if r.marker is None or r.marker.evaluate(env)}


def test_mlx_is_a_dependency_on_apple_silicon_only():
    mlx = {"mlx", "mlx-lm"}
    assert mlx <= installed_by_default("macOS arm64")
    for platform in ("macOS x86_64", "Linux x86_64", "Windows"):
        assert not mlx & installed_by_default(platform), platform
    assert "llama-cpp-python" in installed_by_default("Linux x86_64") & installed_by_default("macOS arm64")


def test_the_mlx_extra_still_installs_the_cpu_build_on_linux():
    extra = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["mlx"]
    env = {**default_environment(), **PLATFORMS["Linux x86_64"], "extra": "mlx"}
    wanted = {str(r) for r in map(Requirement, extra) if r.marker is None or r.marker.evaluate(env)}
    assert any(w.startswith("mlx[cpu]") for w in wanted) and any(w.startswith("mlx-lm") for w in wanted)


@pytest.fixture
def apple_silicon(monkeypatch):
    assert importlib.util.find_spec("mlx_lm"), "mlx-lm is a test dependency on this platform"
    monkeypatch.setattr(hardware, "is_apple_silicon", lambda: True)


def _gguf(tmp_path, name, arch="llama", tokenizer="gpt2"):
    metadata = {"general.architecture": arch, "general.name": name, "general.file_type": 15,
                f"{arch}.context_length": 2048, f"{arch}.block_count": 2, f"{arch}.embedding_length": 64,
                f"{arch}.attention.head_count": 4, "tokenizer.ggml.model": tokenizer}
    return write_gguf(tmp_path / f"{name}.gguf", metadata)


def test_auto_picks_mlx_on_apple_silicon_and_llama_cpp_elsewhere(apple_silicon, monkeypatch):
    assert gguf_backend("auto") == "mlx"
    assert gguf_backend("llamacpp") == "llamacpp"
    monkeypatch.setattr(hardware, "is_apple_silicon", lambda: False)
    assert gguf_backend("auto") == "llamacpp"


def test_auto_sends_files_mlx_cannot_read_to_llama_cpp_when_listing(apple_silicon, tmp_path, model_path):
    readable = _gguf(tmp_path, "readable-llama")
    gemma = _gguf(tmp_path, "gemma-file", arch="gemma3")
    spm = _gguf(tmp_path, "spm-vocab", tokenizer="llama")
    settings = load_settings(host="inprocess", models=[readable, gemma, spm])
    ids = {m.path: m.id for m in list_models(settings, include_remote=False)}
    assert ids[readable] == "mlx:readable-llama"
    assert ids[gemma] == "llamacpp:gemma-file" and ids[spm] == "llamacpp:spm-vocab"
    assert ids[model_path].startswith("mlx:SmolLM2")  # the bundled model runs on MLX there
    assert resolve(gemma, settings).backend == "llamacpp"  # a path, too
    explicit = load_settings(host="inprocess", backend="mlx")
    assert resolve(gemma, explicit).backend == "mlx"  # an explicit choice is kept (and says why at load)


def test_off_apple_silicon_every_gguf_runs_on_llama_cpp(tmp_path, model_path):
    readable = _gguf(tmp_path, "readable-llama")
    settings = load_settings(host="inprocess", models=[readable])
    assert {m.backend for m in list_models(settings, include_remote=False)} == {"llamacpp"}
