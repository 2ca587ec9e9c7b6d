"""Numbers as every front end and message writes them."""

from __future__ import annotations


def human_size(n: int) -> str:
    """Bytes in decimal units: "512 B", "98.3 MB", "4.1 GB"."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)
