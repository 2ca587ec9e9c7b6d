"""The engine with the real bundled model through llama.cpp, greedy decoding (what every
backend does alike, the KV cache, stopping and shortening, is in tests/backends/test_conformance.py)."""

import uuid

import pytest

from jupyter_tinyai.errors import EmptyPrompt
from jupyter_tinyai.types import ContextPiece

pytestmark = pytest.mark.model


def cid():
    return uuid.uuid4().hex


def test_capital_of_france(engine):
    chunks = list(engine.chat("What is the capital of France?", conversation=cid()))
    text = "".join(c.text for c in chunks)
    assert "Paris" in text
    assert sum(1 for c in chunks if c.text) > 3, "the answer is streamed in several chunks"
    stats = chunks[-1].stats
    assert stats.finish_reason == "stop"
    assert stats.model == "llamacpp:SmolLM2-135M-Instruct-Q4_1"
    assert stats.prompt_tokens > 10 and stats.generated_tokens > 3
    assert stats.tokens_per_s > 0 and stats.ttft_s > 0


def test_empty_prompt(engine):
    with pytest.raises(EmptyPrompt, match="empty"):
        list(engine.chat("   \n"))


def test_answer_length_is_capped(engine):
    _, stats = engine.ask("Write a poem about the sea.", conversation=cid(), max_tokens=8)
    assert stats.generated_tokens == 8 and stats.finish_reason == "length"


def test_context_pieces_reach_the_model(engine):
    context = [ContextPiece("city (str)", "'Madrid'")]
    text, _ = engine.ask("Which country is the city in the variable `city` the capital of?", conversation=cid(), context=context)
    assert "Spain" in text


def test_seeded_sampling_is_reproducible(engine):
    kwargs = dict(temperature=0.9, seed=1234, max_tokens=24)
    first, _ = engine.ask("Tell me a fun fact.", conversation=cid(), **kwargs)
    second, _ = engine.ask("Tell me a fun fact.", conversation=cid(), **kwargs)
    assert first == second


def test_reset_forgets_the_conversation(engine):
    conversation = cid()
    engine.ask("Hello", conversation=conversation, max_tokens=4)
    engine.reset(conversation)
    assert engine.history(conversation) == []


def test_status_reports_the_model_and_last_figures(engine):
    engine.ask("Hi", conversation=cid(), max_tokens=4)
    status = engine.status()
    assert status["model"]["id"] == "llamacpp:SmolLM2-135M-Instruct-Q4_1"
    assert status["backend"] == "llamacpp" and status["n_ctx"] == 8192
    assert status["model_memory_bytes"] > 90_000_000
    assert status["last"]["generated_tokens"] == 4
