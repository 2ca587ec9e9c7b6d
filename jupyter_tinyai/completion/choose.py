"""Which model completes code: ``c.TinyAI.completion_model``, else the best fill-in-the-middle
model found on disk, else the chat model.

"Best" is the smallest GGUF whose vocabulary has a family's FIM tokens (completion must keep
up with typing, and the coder models come in sizes where the smallest is the one a laptop
runs fast: Qwen2.5-Coder-0.5B/1.5B, StarCoder2-3B, …). Whether a file has FIM tokens is read
from its token list without loading it: the header is searched for the tokens' spellings as
GGUF writes them (a length, then the bytes).
"""

from __future__ import annotations

import logging
import os
import struct
from functools import lru_cache

from .formats import FAMILIES

log = logging.getLogger(__name__)


def fim_family(path: str) -> str | None:
    """The FIM family of the GGUF at ``path`` ("qwen", "starcoder", …), None when its
    vocabulary has no complete set of FIM tokens (or it cannot be read)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _fim_family(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _fim_family(path: str, _size: int, _mtime_ns: int) -> str | None:
    from ..errors import TinyAIError
    from ..formats.gguf_file import read_gguf

    try:
        header_end = read_gguf(path).index_offset
        with open(path, "rb") as handle:
            header = handle.read(header_end)
    except (OSError, TinyAIError):
        return None
    for family in FAMILIES:
        if all(any(_stored(text) in header for text in spellings) for spellings in (family.prefix, family.suffix, family.middle)):
            return family.name
    return None


def _stored(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def best_fim_model(settings):
    """The smallest FIM-capable GGUF among the models on this machine, None when there is none."""
    from .. import models

    try:
        found = models.list_models(settings, include_remote=False)
    except Exception:  # noqa: BLE001 - no default is better than no completion
        log.warning("listing models for completion failed", exc_info=True)
        return None
    capable = [spec for spec in found if spec.format == "gguf" and spec.path and fim_family(spec.path)]
    return min(capable, key=lambda spec: (spec.size_bytes, spec.id), default=None)


def completion_model(requested: str | None, settings) -> str | None:
    """The model name a completion request gets: the one it names, else
    ``c.TinyAI.completion_model``, else the best FIM model on disk (its path), else the chat
    model (``c.TinyAI.model``; None: the bundled default)."""
    for name in (requested, getattr(settings, "completion_model", "")):
        if name and name.strip():
            return name.strip()
    best = best_fim_model(settings)
    if best is not None:
        return best.path
    return (settings.model or "").strip() or None
