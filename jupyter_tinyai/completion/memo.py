"""What the completion lane remembers between keystrokes: recent completions and the ring of
extra context chunks.

:class:`Recent` answers a request it has seen before at once, and also one the user is typing
into: after ``df.he`` was completed with ``ad()``, typing ``a`` gets ``d()`` at once, without
asking the model.

:class:`Ring` holds extra context (recently edited cells), oldest first, at the head of every
prompt. New chunks wait in ``pending`` until the lane is idle (or has nothing cached yet), so
the prompt's head does not change under a user who is typing; a chunk from a cell already in
the ring replaces it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from ..types import ContextPiece

#: characters typed into a suggestion that can still be served from the cache
MAX_TYPED_AHEAD = 64


class Recent:
    """The last ``size`` completions, by (model, prefix, suffix)."""

    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def put(self, model: str, prefix: str, suffix: str, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._items[(model, prefix, suffix)] = text
            self._items.move_to_end((model, prefix, suffix))
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, model: str, prefix: str, suffix: str) -> str | None:
        """The completion for this cursor, or the rest of one the user has typed into."""
        with self._lock:
            for typed in range(min(len(prefix), MAX_TYPED_AHEAD) + 1):
                text = self._items.get((model, prefix[: len(prefix) - typed], suffix))
                if text is None:
                    continue
                ahead = prefix[len(prefix) - typed :]
                if text.startswith(ahead) and len(text) > typed:
                    self._items.move_to_end((model, prefix[: len(prefix) - typed], suffix))
                    return text[typed:]
        return None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Ring:
    """Extra context chunks for the head of the prompt, oldest first, at most ``size``."""

    def __init__(self, size: int = 16):
        self.size = size
        self.chunks: list[ContextPiece] = []
        self.pending: list[ContextPiece] = []
        self._lock = threading.Lock()

    def offer(self, pieces: Iterable[ContextPiece]) -> None:
        """Queue chunks not in the ring already (by text)."""
        with self._lock:
            known = {piece.text for piece in self.chunks} | {piece.text for piece in self.pending}
            for piece in pieces:
                if piece.text.strip() and piece.text not in known:
                    self.pending = [p for p in self.pending if not (piece.label and p.label == piece.label)]
                    self.pending.append(piece)
                    known.add(piece.text)

    def update(self) -> bool:
        """Move the pending chunks in (replacing chunks of the same label, dropping the
        oldest beyond ``size``); whether the ring changed."""
        with self._lock:
            if not self.pending:
                return False
            for piece in self.pending:
                self.chunks = [p for p in self.chunks if not (piece.label and p.label == piece.label)]
                self.chunks.append(piece)
            self.pending = []
            del self.chunks[: max(0, len(self.chunks) - self.size)]
            return True

    def clear(self) -> None:
        with self._lock:
            self.chunks, self.pending = [], []
