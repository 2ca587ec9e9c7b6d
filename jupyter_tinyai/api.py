"""The shared client of this process: the host client, or an in-process engine."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .types import Client

_lock = threading.Lock()
_client = None


def make_client(settings=None) -> Client:
    """A client for ``settings.host``: 'inprocess' loads the model here."""
    from .config import load_settings

    settings = settings or load_settings()
    if settings.host == "inprocess":
        from .engine import Engine

        return Engine(settings)
    from .host.client import HostClient

    return HostClient(settings)


def default_client(settings=None) -> Client:
    """One client per process, made on first use."""
    global _client
    with _lock:
        if _client is None:
            _client = make_client(settings)
        return _client


def set_default_client(client) -> None:
    global _client
    with _lock:
        _client = client
