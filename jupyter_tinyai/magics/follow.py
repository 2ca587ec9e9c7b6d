"""The kernel follows the host's model (jupyter_tinyai.modelstate): a pick made in another
front end (the sidebar, another notebook, the CLI's load) becomes this kernel's model too,
and the ``%tinyai`` panel redraws on each change. One daemon thread per kernel, started on
first use; while no host runs it looks for one every few seconds."""

from __future__ import annotations

import threading
from collections.abc import Callable

RETRY_S = 2.0


class HostFollower:
    """Reads the client's model snapshots in a thread; ``latest`` is the last one, and each
    new one goes to every listener (``listen``), errors in a listener ignored."""

    def __init__(self, client_of: Callable[[], object]):
        self._client_of = client_of
        self._listeners: list[Callable[[dict], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.latest: dict | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tinyai-follow", daemon=True)
                self._thread.start()

    def listen(self, listener: Callable[[dict], None]) -> None:
        with self._lock:
            self._listeners.append(listener)
        self.start()

    def unlisten(self, listener: Callable[[dict], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                events = getattr(self._client_of(), "model_events", None)
                if events is not None:
                    for snap in events(stop=self._stop):
                        self._tell(snap)
            except Exception:  # noqa: BLE001 - a host that went away: look again
                pass
            self._stop.wait(RETRY_S)

    def _tell(self, snap: dict) -> None:
        self.latest = snap
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(snap)
            except Exception:  # noqa: BLE001 - a closed widget, a bug in one view: the others still hear
                pass
