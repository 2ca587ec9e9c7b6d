"""Will a model fit? Checked before loading, so a too-large model is refused, not swapped."""

from __future__ import annotations

import os

from .errors import InsufficientMemory
from .models.spec import human_size


def available_bytes() -> int:
    import psutil

    return psutil.virtual_memory().available


def process_rss() -> int:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss


def check_fits(backend, headroom_mb: int) -> None:
    """Raise InsufficientMemory when the backend's estimate exceeds what is available (a
    remote model needs none here)."""
    need = backend.estimate_bytes()
    available, headroom = available_bytes(), headroom_mb * 1024 * 1024
    if need and need > available - headroom:
        raise InsufficientMemory(
            f"{backend.spec.name} needs about {human_size(need)} of memory "
            f"({human_size(backend.spec.size_bytes)} of weights plus its context), but only "
            f"{human_size(available)} is available and c.TinyAI.memory_headroom_mb keeps "
            f"{headroom_mb} MB free. Close other programs, choose a smaller or "
            "more quantized model, or lower c.TinyAI.n_ctx (or c.TinyAI.memory_headroom_mb)."
        )
