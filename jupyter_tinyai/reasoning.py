"""Reasoning apart from the answer: models that think aloud (Qwen3, the R1 distills) write
``<think>…</think>`` before answering. The engine moves that text from ``Chunk.text`` to
``Chunk.reasoning``, so it is shown folded, never recorded in the conversation sent back to
the model, and never taken as the answer's code::

    splitter = ReasoningSplitter()
    splitter.feed("<thi")            # ("", "")   (a tag may come in pieces)
    splitter.feed("nk>plan</think>Hi")  # ("plan", "Hi")

A chat template that opens the block itself (its generation prompt ends with ``<think>``)
starts the splitter ``inside`` it. Text without the tags passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .types import Chunk

OPEN, CLOSE = "<think>", "</think>"


def opens_reasoning(prompt: str) -> bool:
    """Whether a rendered prompt leaves a reasoning block open for the model to continue."""
    tail = prompt.rstrip()
    return tail.endswith(OPEN)


class ReasoningSplitter:
    """Splits a stream of text deltas into (reasoning, answer) deltas."""

    def __init__(self, inside: bool = False):
        self.inside = inside
        self.seen_answer = False  # answer text came: a later <think> is the answer's own text
        self._after_block = False  # a block just ended: the blank lines that follow are dropped
        self._pending = ""  # the end of the text so far that may be the start of a tag

    def feed(self, text: str) -> tuple[str, str]:
        reasoning, answer = [], []
        buffer = self._pending + text
        self._pending = ""
        while buffer:
            if not self.inside and self.seen_answer:
                answer.append(buffer)
                break
            tag = CLOSE if self.inside else OPEN
            at = buffer.find(tag)
            if at >= 0:
                head, buffer = buffer[:at], buffer[at + len(tag):]
            else:
                keep = _partial_tag(buffer, tag)
                head, self._pending, buffer = buffer[: len(buffer) - keep], buffer[len(buffer) - keep:], ""
            if self.inside:
                reasoning.append(head)
            else:
                if self._after_block:
                    head = head.lstrip("\n")
                    self._after_block = not head
                self.seen_answer = self.seen_answer or bool(head.strip())
                if at >= 0 and self.seen_answer:  # a <think> inside the answer is its own text
                    head += tag
                    at = -1
                answer.append(head)
            if at >= 0:
                self.inside = not self.inside
                self._after_block = not self.inside
        return "".join(reasoning), "".join(answer)

    def flush(self) -> tuple[str, str]:
        """What is held back at the end of the stream (a tag that never completed)."""
        pending, self._pending = self._pending, ""
        return (pending, "") if self.inside else ("", pending)


def _partial_tag(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a start of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


def split_reasoning(chunks, opened: Callable[[], bool] = lambda: False) -> Iterator[Chunk]:
    """``chunks`` with ``<think>`` blocks moved from ``text`` to ``reasoning``; ``opened()``
    (asked at the first chunk) says whether the prompt left a block open."""
    splitter = None
    for chunk in chunks:
        if splitter is None:
            splitter = ReasoningSplitter(inside=opened())
        if chunk.text:
            reasoning, text = splitter.feed(chunk.text)
            chunk.reasoning = (chunk.reasoning or "") + reasoning
            chunk.text = text
        if chunk.stats is not None:  # the last chunk: nothing is held back any more
            reasoning, text = splitter.flush()
            chunk.reasoning = (chunk.reasoning or "") + reasoning
            chunk.text += text
        if chunk.text or chunk.reasoning or chunk.stats is not None or chunk.notice or chunk.model is not None \
                or chunk.queued is not None:
            yield chunk
