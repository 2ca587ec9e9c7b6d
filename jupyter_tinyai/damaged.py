"""Damaged files are never overwritten nor deleted: they are renamed out of the way, beside
themselves, to ``<name>.damaged-<UTC time>`` (``-2``, ``-3``… when that name is taken)."""

from __future__ import annotations

import os
from datetime import datetime, timezone


def move_aside(path: str) -> str:
    """Rename the damaged file at ``path`` to a free ``.damaged-<time>`` name; the new path.
    Raises OSError when it cannot be renamed (the caller says what to do)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target, n = f"{path}.damaged-{stamp}", 1
    while os.path.lexists(target):
        n += 1
        target = f"{path}.damaged-{stamp}-{n}"
    os.rename(path, target)
    return target
