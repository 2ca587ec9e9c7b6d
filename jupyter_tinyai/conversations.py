"""Conversation histories by id, and their saved KV-cache states within a memory budget."""

from __future__ import annotations

from collections import OrderedDict

from .types import Message

#: histories kept, least recently used first dropped: a script running `jupyter tinyai ask`
#: in a loop makes a conversation per call (the magics and the sidebar give theirs back)
MAX_HISTORIES = 256


class Conversations:
    def __init__(self, state_budget_bytes: int, max_histories: int = MAX_HISTORIES):
        self.histories: OrderedDict[str, list[Message]] = OrderedDict()
        self.max_histories = max_histories
        self.states: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self.budget = state_budget_bytes
        self.live: str | None = None  # whose tokens are in the backend's KV cache now

    def history(self, cid: str) -> list[Message]:
        return list(self.histories.get(cid, []))

    def append(self, cid: str, user: str, assistant: str) -> None:
        self.set(cid, self.histories.get(cid, []) + [Message("user", user), Message("assistant", assistant)])

    def set(self, cid: str, messages: list[Message]) -> None:
        """``cid``'s turns, now its most recently used; beyond ``max_histories``, the least
        recently used conversation is forgotten (with its cache)."""
        self.histories[cid] = list(messages)
        self.histories.move_to_end(cid)
        while len(self.histories) > self.max_histories:
            self.reset(next(iter(self.histories)))

    def reset(self, cid: str) -> None:
        self.histories.pop(cid, None)
        self.states.pop(cid, None)
        if self.live == cid:
            self.live = None

    def ids(self) -> list[str]:
        return list(self.histories)

    def save_state(self, cid: str, state, size: int) -> None:
        if state is None or size > self.budget:
            return
        self.states[cid] = (state, size)
        self.states.move_to_end(cid)
        while sum(s for _, s in self.states.values()) > self.budget:
            self.states.popitem(last=False)  # least recently used first

    def take_state(self, cid: str):
        entry = self.states.get(cid)
        if entry is None:
            return None
        self.states.move_to_end(cid)
        return entry[0]

    def state_bytes(self) -> int:
        return sum(s for _, s in self.states.values())

    def clear_states(self) -> None:
        self.states.clear()
        self.live = None
