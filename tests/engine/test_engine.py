"""The engine with the real bundled model through llama.cpp, greedy decoding."""

import threading
import uuid

import pytest

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import EmptyPrompt
from jupyter_tinyai.types import ContextPiece


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


def test_two_turns_reuse_the_kv_cache(engine):
    conversation = cid()
    first, s1 = engine.ask("What is the capital of France?", conversation=conversation)
    second, s2 = engine.ask("And what is the capital of Germany?", conversation=conversation)
    assert "Paris" in first and "Berlin" in second
    history = engine.history(conversation)
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[1].content == first
    # the follow-up evaluates only its new tokens: everything before it came from the cache
    assert s2.prompt_tokens > s1.prompt_tokens
    assert s2.cached_tokens >= s1.prompt_tokens


def test_switching_conversations_restores_their_cache(engine):
    a, b = cid(), cid()
    engine.ask("What is the capital of France?", conversation=a, max_tokens=16)
    engine.ask("Name a fruit.", conversation=b, max_tokens=16)
    _, stats = engine.ask("And Italy?", conversation=a, max_tokens=16)
    assert stats.cached_tokens > 20, "conversation a's KV state was restored after b"


def test_cancel_keeps_the_partial_answer_and_the_engine_ready(engine):
    cancel = threading.Event()
    conversation = cid()
    prompt = "Write a long story about a dragon who learns to cook."
    chunks = []
    for chunk in engine.chat(prompt, conversation=conversation, cancel=cancel, max_tokens=400):
        chunks.append(chunk)
        if len(chunks) == 5:
            cancel.set()
    stats = chunks[-1].stats
    assert stats.finish_reason == "cancelled"
    assert stats.generated_tokens <= 6, "stopped at the next token"
    partial = "".join(c.text for c in chunks)
    assert partial and engine.history(conversation)[-1].content == partial

    # the same request again gives what a fresh engine gives
    again, _ = engine.ask(prompt, conversation=cid(), max_tokens=40)
    fresh = Engine(load_settings(host="inprocess"))
    try:
        expected, _ = fresh.ask(prompt, conversation=cid(), max_tokens=40)
    finally:
        fresh.unload()
    assert again == expected
    assert again.startswith(partial.strip()[:10])


def test_cancel_from_another_thread(engine):
    stats = None
    timer = None
    for chunk in engine.chat("Count from 1 to 200.", conversation=cid(), max_tokens=300):
        if timer is None:
            timer = threading.Timer(0.05, engine.cancel)
            timer.start()
        stats = chunk.stats or stats
    timer.join()
    assert stats.finish_reason == "cancelled"
    assert stats.generated_tokens < 300
    assert engine.cancel() is False, "nothing is running any more"


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
