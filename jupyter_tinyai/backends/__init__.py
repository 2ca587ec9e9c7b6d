"""Backends by name, imported only when a model needs one (no llama.cpp import at load time)."""

from __future__ import annotations

import importlib
import importlib.util
import platform
import sys

from ..errors import BackendUnavailable

#: backend name -> "module:Class"
BACKENDS = {
    "llamacpp": "jupyter_tinyai.backends.llamacpp:LlamaCppBackend",
    "remote": "jupyter_tinyai.backends.remote:RemoteBackend",
    "mlx": "jupyter_tinyai.backends.mlx:MLXBackend",
}


def backend_class(name: str):
    try:
        module_name, class_name = BACKENDS[name].split(":")
    except KeyError:
        raise BackendUnavailable(
            f"unknown backend {name!r}; the backends are: {', '.join(sorted(BACKENDS))}."
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def is_apple_silicon() -> bool:
    return sys.platform == "darwin" and platform.machine() == "arm64"


def gguf_backend(choice: str = "auto", metadata: dict | None = None) -> str:
    """The backend that runs GGUF files: MLX on Apple Silicon when installed, else llama.cpp.
    Given a file's ``metadata``, ``auto`` sends a file MLX cannot read to llama.cpp (Metal)."""
    if choice != "auto":
        return choice
    if "mlx" in BACKENDS and is_apple_silicon() and importlib.util.find_spec("mlx_lm") is not None:
        from .mlx_gguf import refusal

        if metadata is None or refusal(metadata) is None:
            return "mlx"
    return "llamacpp"
