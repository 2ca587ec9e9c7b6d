"""Turn a file or folder on disk into a ModelSpec (without loading the model)."""

from __future__ import annotations

import json
import os
import re

from ..errors import ModelFileError, ModelNotFound
from ..formats.gguf_file import read_gguf
from .spec import ModelSpec


class AdapterFile(ModelFileError):
    """A LoRA adapter where a model is expected (a listing leaves it out without a warning)."""


def is_mlx_folder(path: str) -> bool:
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return "config.json" in names and any(n.endswith(".safetensors") for n in names)


def gguf_name(path: str) -> str:
    """'SmolLM2-135M-Instruct.Q4_1.gguf' -> 'SmolLM2-135M-Instruct-Q4_1'."""
    stem = os.path.basename(path)
    stem = stem[: -len(".gguf")] if stem.lower().endswith(".gguf") else stem
    return re.sub(r"[.\s]+", "-", stem)


def describe_gguf(path: str, source: str, backend: str, name: str | None = None) -> ModelSpec:
    """``backend``: the one to use, or "auto" to choose for this file (see ``gguf_backend``)."""
    from ..backends.choice import gguf_backend

    info = read_gguf(path)
    if info.is_adapter:
        raise AdapterFile(f"{path} is a LoRA adapter, not a model: use it with --adapter.")
    backend = gguf_backend(backend, info.metadata)
    name = name or gguf_name(path)
    return ModelSpec(
        id=f"{backend}:{name}",
        name=name,
        backend=backend,
        format="gguf",
        path=path,
        quantization=info.quantization,
        size_bytes=os.path.getsize(path),
        context_length=info.context_length,
        source=source,
        architecture=info.architecture,
    )


def describe_mlx(path: str, source: str, name: str | None = None) -> ModelSpec:
    try:
        with open(os.path.join(path, "config.json"), encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}/config.json cannot be read ({exc}); the MLX model folder is incomplete.") from exc
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}/config.json is not a JSON object; the MLX model folder is damaged.")
    context = config.get("max_position_embeddings") or 0
    if isinstance(context, bool) or not isinstance(context, int):
        raise ModelFileError(f"{path}/config.json is damaged: 'max_position_embeddings' is not a whole number.")
    quant = config.get("quantization") or config.get("quantization_config") or {}
    bits = quant.get("bits") if isinstance(quant, dict) else None
    size = sum(
        os.path.getsize(os.path.join(path, n)) for n in os.listdir(path) if n.endswith(".safetensors")
    )
    name = name or os.path.basename(os.path.normpath(path))
    return ModelSpec(
        id=f"mlx:{name}",
        name=name,
        backend="mlx",
        format="mlx",
        path=path,
        quantization=f"{bits}bit" if bits else str(config.get("torch_dtype", "")),
        size_bytes=size,
        context_length=context,
        source=source,
        architecture=str(config.get("model_type", "")),
    )


def describe_path(path: str, source: str, gguf_backend: str) -> ModelSpec:
    """A model file or folder given by path; a clear error when it is not one. ``gguf_backend``:
    c.TinyAI.backend ("auto" chooses per file) or a backend name."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(path):
        raise ModelNotFound(f"there is no file or folder at {path}. Check the path, or run `jupyter tinyai models` to see the models found.")
    if os.path.isdir(path):
        if is_mlx_folder(path):
            return describe_mlx(path, source)
        ggufs = [n for n in sorted(os.listdir(path)) if n.lower().endswith(".gguf")]
        if len(ggufs) == 1:
            return describe_gguf(os.path.join(path, ggufs[0]), source, gguf_backend)
        raise ModelFileError(
            f"{path} is a folder, but not an MLX model folder (config.json and *.safetensors)"
            + (f" and it holds {len(ggufs)} GGUF files: name one of them." if ggufs else " and it holds no GGUF file.")
        )
    if path.lower().endswith((".safetensors", ".bin", ".pt", ".pth", ".onnx")):
        raise ModelFileError(
            f"{path} is not a format jupyter_tinyai runs. Use a GGUF file (llama.cpp) or an MLX model folder; "
            "convert with llama.cpp's convert_hf_to_gguf.py or `mlx_lm.convert`."
        )
    return describe_gguf(path, source, gguf_backend)
