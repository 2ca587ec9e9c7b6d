"""Prompts longer than the context window are trimmed, never an error from llama.cpp."""

import uuid

import pytest

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.types import ContextPiece


@pytest.fixture(scope="module")
def small_engine():
    engine = Engine(load_settings(host="inprocess", n_ctx=512, max_tokens=64))
    engine.load()
    yield engine
    engine.unload()


def chat(engine, prompt, **kwargs):
    chunks = list(engine.chat(prompt, conversation=kwargs.pop("conversation", uuid.uuid4().hex), **kwargs))
    notices = [c.notice for c in chunks if c.notice]
    return "".join(c.text for c in chunks), notices, chunks[-1].stats


def test_context_window_is_the_setting(small_engine):
    assert small_engine.status()["n_ctx"] == 512


def test_prompt_far_longer_than_the_context(small_engine):
    prompt = "The quick brown fox jumps over the lazy dog. " * 400 + "\nWhat animal jumps?"
    text, notices, stats = chat(small_engine, prompt)
    assert notices == ["To fit the 512-token context window, this answer shortened the prompt."]
    assert stats.prompt_tokens + stats.generated_tokens <= 512
    assert text.strip()


def test_oldest_turns_go_first(small_engine):
    conversation = uuid.uuid4().hex
    for i in range(8):
        chat(small_engine, f"Remember the number {i}. " + "Filler sentence. " * 20, conversation=conversation, max_tokens=16)
    _, notices, stats = chat(small_engine, "Which numbers did I tell you?", conversation=conversation, max_tokens=32)
    assert notices and "left out" in notices[0] and "earlier turn" in notices[0]
    assert stats.prompt_tokens + 32 <= 512


def test_largest_context_piece_is_shortened(small_engine):
    context = [ContextPiece("small", "x = 1"), ContextPiece("big", "row, value\n" * 2000)]
    _, notices, stats = chat(small_engine, "How many rows?", context=context)
    assert notices == ["To fit the 512-token context window, this answer shortened 1 context piece."]
    assert stats.prompt_tokens <= 512 - 64


def test_shortening_keeps_head_and_tail_with_one_marker():
    from jupyter_tinyai.prompts import TRUNCATED, fit

    def count(messages):  # one token per 4 characters
        return sum(len(m.content) for m in messages) // 4

    prompt = "START " + "middle " * 2000 + " END?"
    budget = fit("sys", [], prompt, [], count, limit=300)
    text = budget.messages[-1].content
    assert budget.prompt_shortened and budget.tokens <= 300
    assert text.startswith("START") and text.endswith("END?")
    assert text.count(TRUNCATED.strip()) == 1
