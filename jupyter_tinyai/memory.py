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


def check_fits(backend, headroom_mb: int, freed_bytes: int = 0) -> None:
    """Raise InsufficientMemory when the backend's estimate exceeds what is available
    (plus ``freed_bytes``, what unloading the current model will give back)."""
    need = backend.estimate_bytes()
    have = available_bytes() + freed_bytes - headroom_mb * 1024 * 1024
    if need > have:
        raise InsufficientMemory(
            f"{backend.spec.name} needs about {human_size(need)} of memory "
            f"({human_size(backend.spec.size_bytes)} of weights plus its context), but only "
            f"{human_size(max(have, 0))} is available. Close other programs, choose a smaller or "
            "more quantized model, or lower c.TinyAI.n_ctx."
        )
