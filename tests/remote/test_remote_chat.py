"""Streaming and cancelling answers from a real llama_cpp.server through the engine."""

from __future__ import annotations

import threading

import pytest

from jupyter_tinyai.types import Stats

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]

FRANCE = "What is the capital of France?"
LONG = "Write a long story about a dragon who learns to cook. Use many paragraphs."


def test_stream_answers_with_remote_stats(remote_engine):
    chunks = list(remote_engine.chat(FRANCE, model="lab:smollm2", conversation="france", temperature=0))
    text = "".join(c.text for c in chunks)
    assert "Paris" in text
    assert sum(1 for c in chunks if c.text) > 1, "the answer should arrive in several chunks"
    stats = chunks[-1].stats
    assert isinstance(stats, Stats) and all(c.stats is None for c in chunks[:-1])
    # the answer says it ran remotely, on which remote
    assert stats.backend == "remote" and stats.model == "lab:smollm2"
    assert stats.finish_reason == "stop"
    assert stats.prompt_tokens > 10 and stats.generated_tokens > 0
    assert stats.total_s >= stats.ttft_s > 0
    assert not any(c.notice for c in chunks), "llama_cpp.server has a tokenize endpoint: counts are not estimated"
    assert remote_engine.status()["backend"] == "remote"
    history = remote_engine.history("france")
    assert [m.role for m in history] == ["user", "assistant"] and history[1].content == text


def test_greedy_is_reproducible_and_follow_up_sees_history(remote_engine):
    first, _ = remote_engine.ask(FRANCE, model="lab:smollm2", conversation="a", temperature=0)
    again, _ = remote_engine.ask(FRANCE, model="lab:smollm2", conversation="b", temperature=0)
    assert first == again
    _, stats = remote_engine.ask("And of Germany?", model="lab:smollm2", conversation="a", temperature=0)
    _, alone = remote_engine.ask("And of Germany?", model="lab:smollm2", conversation="c", temperature=0)
    assert stats.prompt_tokens > alone.prompt_tokens  # the earlier turn was sent along


def test_max_tokens_reports_length(remote_engine):
    _, stats = remote_engine.ask(LONG, model="lab:smollm2", conversation="len", temperature=0, max_tokens=5)
    assert stats.finish_reason == "length"
    assert 1 <= stats.generated_tokens <= 6


def test_cancel_mid_answer_keeps_partial_text(remote_engine):
    cancel = threading.Event()
    parts, stats = [], None
    for chunk in remote_engine.chat(LONG, model="lab:smollm2", conversation="cancel", temperature=0,
                                    max_tokens=300, cancel=cancel):
        parts.append(chunk.text)
        stats = chunk.stats or stats
        if sum(1 for p in parts if p) == 3:
            cancel.set()
    assert stats.finish_reason == "cancelled"
    assert 3 <= stats.generated_tokens < 300
    partial = "".join(parts)
    assert partial and remote_engine.history("cancel")[-1].content == partial
    # the server noticed the closed stream and answers the next request normally
    text, after = remote_engine.ask(FRANCE, model="lab:smollm2", conversation="after-cancel", temperature=0)
    assert "Paris" in text and after.finish_reason == "stop"


def test_engine_cancel_from_another_thread(remote_engine):
    stats, seen, results = None, 0, []
    for chunk in remote_engine.chat(LONG, model="lab:smollm2", conversation="cancel2", temperature=0, max_tokens=300):
        seen += bool(chunk.text)
        stats = chunk.stats or stats
        if chunk.text and seen == 2:
            canceller = threading.Thread(target=lambda: results.append(remote_engine.cancel()))
            canceller.start()
            canceller.join(10)
            assert results == [True]
    assert stats.finish_reason == "cancelled" and stats.generated_tokens < 300
    assert remote_engine.cancel() is False  # nothing running any more


def test_cancel_while_waiting_unblocks_the_read(remote_engine):
    """Cancel set before the first token: the watcher closes the socket and the answer ends."""
    remote_engine.load("lab:smollm2")
    backend = remote_engine._backend
    cancel = threading.Event()
    from jupyter_tinyai.types import GenerationParams, Message

    stream = backend.stream([Message("user", LONG)], GenerationParams(max_tokens=300), cancel)
    cancel.set()
    chunks = list(stream)
    assert chunks[-1].stats.finish_reason == "cancelled"
    assert chunks[-1].stats.generated_tokens < 300
