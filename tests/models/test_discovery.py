import json
import os
import pathlib

import pytest

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import AmbiguousModel, ModelFileError, ModelNotFound
from jupyter_tinyai.models import list_models, resolve


@pytest.fixture
def settings():
    return load_settings(host="inprocess")


def by_source(specs, source):
    return [m for m in specs if m.source == source]


def test_bundled_model_is_listed_and_the_default(settings):
    specs = list_models(settings)
    bundled = by_source(specs, "bundled")
    assert [m.id for m in bundled] == ["llamacpp:SmolLM2-135M-Instruct-Q4_1"]
    assert bundled[0].quantization == "Q4_1" and bundled[0].context_length == 8192
    assert resolve(None, settings).id == "llamacpp:SmolLM2-135M-Instruct-Q4_1"


def test_model_dirs_scanned_two_levels_and_bad_files_are_warnings(tmp_path, settings, make_gguf):
    make_gguf(tmp_path / "models" / "a" / "Alpha-7B.Q4_K_M.gguf", name="alpha", file_type=15)
    make_gguf(tmp_path / "models" / "a" / "b" / "c" / "d" / "TooDeep.gguf")
    (tmp_path / "models" / "broken.gguf").write_text("<html>")
    settings.model_dirs = [str(tmp_path / "models")]
    found = by_source(list_models(settings), "model_dirs")
    models = [(m.id, m.quantization, m.context_length) for m in found if not m.warning]
    assert models == [("llamacpp:Alpha-7B-Q4_K_M", "Q4_K_M", 2048)]
    [warning] = [m.warning for m in found if m.warning]
    assert str(tmp_path / "models" / "broken.gguf") in warning and "not a GGUF model file" in warning


def test_hugging_face_cache_gguf_and_mlx(settings, make_gguf):
    hub = os.environ["HF_HUB_CACHE"]
    repo = os.path.join(hub, "models--someone--Tiny-GGUF")
    make_gguf(pathlib.Path(repo, "snapshots", "abc123", "tiny.Q8_0.gguf"), file_type=7)
    os.makedirs(os.path.join(repo, "refs"))
    with open(os.path.join(repo, "refs", "main"), "w") as f:
        f.write("abc123")
    mlx = os.path.join(hub, "models--mlx-community--Tiny-4bit", "snapshots", "def456")
    os.makedirs(mlx)
    with open(os.path.join(mlx, "config.json"), "w") as f:
        json.dump({"model_type": "llama", "quantization": {"bits": 4, "group_size": 64}, "max_position_embeddings": 4096}, f)
    pathlib.Path(mlx, "model.safetensors").write_bytes(b"\0" * 100)
    found = {m.id: m for m in by_source(list_models(settings), "hf-cache")}
    assert found["llamacpp:tiny-Q8_0"].quantization == "Q8_0"
    assert found["mlx:Tiny-4bit"].format == "mlx"
    assert found["mlx:Tiny-4bit"].quantization == "4bit"
    assert found["mlx:Tiny-4bit"].context_length == 4096


def test_lmstudio_models_folder(settings, make_gguf, isolated_home):
    make_gguf(isolated_home / ".lmstudio" / "models" / "pub" / "Repo-GGUF" / "Repo-Q4_0.gguf", file_type=2)
    assert [m.id for m in by_source(list_models(settings), "lmstudio")] == ["llamacpp:Repo-Q4_0"]


def test_ollama_manifest_points_at_a_gguf_blob(settings, make_gguf):
    root = os.environ["OLLAMA_MODELS"]
    digest = "sha256:" + "ab" * 32
    make_gguf(pathlib.Path(root, "blobs", digest.replace(":", "-")), name="llama3.2")
    manifest = os.path.join(root, "manifests", "registry.ollama.ai", "library", "llama3.2")
    os.makedirs(manifest)
    with open(os.path.join(manifest, "3b"), "w") as f:
        json.dump({"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": digest}]}, f)
    assert [m.id for m in by_source(list_models(settings), "ollama")] == ["llamacpp:llama3.2:3b"]


def test_sources_can_be_turned_off(settings, make_gguf, isolated_home):
    make_gguf(isolated_home / ".lmstudio" / "models" / "p" / "r" / "X.gguf")
    settings.scan_lmstudio = False
    assert by_source(list_models(settings), "lmstudio") == []


def test_short_names_resolve(settings):
    assert resolve("smollm2", settings).name == "SmolLM2-135M-Instruct-Q4_1"
    assert resolve("SmolLM2-135M-Instruct-Q4_1", settings).source == "bundled"
    assert resolve("llamacpp:SmolLM2-135M-Instruct-Q4_1", settings).backend == "llamacpp"


def test_ambiguous_name_lists_the_candidates(settings, tmp_path, make_gguf):
    make_gguf(tmp_path / "m" / "Qwen-0.5B.gguf")
    make_gguf(tmp_path / "m" / "Qwen-1.5B.gguf")
    settings.model_dirs = [str(tmp_path / "m")]
    with pytest.raises(AmbiguousModel, match="Qwen-0-5B.*Qwen-1-5B"):
        resolve("qwen", settings)


def test_an_exact_id_wins_over_one_differing_only_in_case(settings, tmp_path, make_gguf):
    # `jupyter tinyai pull` of a lower-case GGUF of the bundled model names it
    # llamacpp:smollm2-135m-instruct-q4_1 and says to use that id: it must select it
    make_gguf(tmp_path / "m" / "smollm2-135m-instruct-q4_1.gguf")
    settings.model_dirs = [str(tmp_path / "m")]
    assert resolve("llamacpp:smollm2-135m-instruct-q4_1", settings).source == "model_dirs"
    assert resolve("llamacpp:SmolLM2-135M-Instruct-Q4_1", settings).source == "bundled"
    with pytest.raises(AmbiguousModel, match="or the file's path"):
        resolve("LLAMACPP:SMOLLM2-135M-INSTRUCT-Q4_1", settings)


def test_unknown_name_suggests_close_matches(settings):
    with pytest.raises(ModelNotFound, match="Did you mean: llamacpp:SmolLM2-135M-Instruct-Q4_1"):
        resolve("SmolLM3-135M-Instruct", settings)


def test_missing_path(settings, tmp_path):
    with pytest.raises(ModelNotFound, match="no file or folder at"):
        resolve(str(tmp_path / "nope.gguf"), settings)


def test_unsupported_format_by_path(settings, tmp_path):
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(b"\0" * 10)
    with pytest.raises(ModelFileError, match="not a format"):
        resolve(str(path), settings)


def test_path_to_bundled_model_is_marked_bundled(settings, model_path):
    assert resolve(model_path, settings).source == "bundled"


@pytest.mark.parametrize("typo", ["smolm2", "smolml2"])
def test_a_typo_of_a_short_name_gets_suggestions(settings, typo):
    with pytest.raises(ModelNotFound, match=r"Did you mean: llamacpp:SmolLM2-135M-Instruct-Q4_1\b"):
        resolve(typo, settings)
