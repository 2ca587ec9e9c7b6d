"""Which backend runs a GGUF file: decided from the platform and the file's header alone,
without importing a backend (the model registry calls it while listing)."""

from __future__ import annotations

import importlib.util

from .. import hardware


def gguf_backend(choice: str = "auto", metadata: dict | None = None) -> str:
    """The backend that runs GGUF files: MLX on Apple Silicon when installed, else llama.cpp.
    Given a file's ``metadata``, ``auto`` sends a file MLX cannot read to llama.cpp (Metal)."""
    if choice != "auto":
        return choice
    if hardware.is_apple_silicon() and importlib.util.find_spec("mlx_lm") is not None:
        from .mlx_gguf import refusal  # pure: the header's metadata, no MLX import

        if metadata is None or refusal(metadata) is None:
            return "mlx"
    return "llamacpp"
