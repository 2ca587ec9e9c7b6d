"""What every local backend does the same way, run on llama.cpp and on MLX with the real
bundled model (greedy; MLX on Linux's CPU build decodes about 5 tokens/s, so answers stay
short): a follow-up reuses the KV cache, each conversation gets its cache back, a stop keeps
the partial answer and leaves the next answer unchanged, and what does not fit the context
window is shortened, oldest turns first."""

import threading
import uuid

import pytest

from backends.mlx_required import require_mlx
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.types import ContextPiece

pytestmark = [pytest.mark.model, pytest.mark.timeout(600)]

PARIS = "What is the capital of France?"
N_CTX, MAX_TOKENS = 512, 64


def cid():
    return uuid.uuid4().hex


@pytest.fixture(scope="module", params=["llamacpp", "mlx"])
def engine(request):
    """An engine of each backend, with a small context window (loaded once per module)."""
    if request.param == "mlx":
        require_mlx()
    engine = Engine(load_settings(host="inprocess", backend=request.param, n_ctx=N_CTX, max_tokens=MAX_TOKENS))
    engine.load()
    assert engine.status()["backend"] == request.param
    yield engine
    engine.unload()


def chat(engine, prompt, **kwargs):
    chunks = list(engine.chat(prompt, conversation=kwargs.pop("conversation", None) or cid(), **kwargs))
    return "".join(c.text for c in chunks), [c.notice for c in chunks if c.notice], chunks[-1].stats


def test_a_follow_up_reuses_the_kv_cache(engine):
    conversation = cid()
    first, s1 = engine.ask("Name one colour.", conversation=conversation, max_tokens=6)
    second, s2 = engine.ask("Name another one.", conversation=conversation, max_tokens=6)
    history = engine.history(conversation)
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[1].content == first and history[3].content == second
    # the follow-up evaluates only its new tokens: everything before it came from the cache
    assert s1.cached_tokens < s1.prompt_tokens < s2.prompt_tokens
    assert s1.prompt_tokens <= s2.cached_tokens < s2.prompt_tokens


def test_switching_conversations_restores_their_cache(engine):
    a, b = cid(), cid()
    engine.ask("Name a fruit.", conversation=a, max_tokens=4)
    engine.ask("Name a tree.", conversation=b, max_tokens=4)
    _, stats = engine.ask("Another fruit?", conversation=a, max_tokens=4)
    assert stats.cached_tokens > 20, "conversation a's cache came back after b"


def test_a_stop_keeps_the_partial_answer_and_leaves_the_next_answer_unchanged(engine):
    before, _ = engine.ask(PARIS, conversation=cid(), max_tokens=8)
    cancel, conversation, chunks = threading.Event(), cid(), []
    for chunk in engine.chat("Write a long story about a dragon.", conversation=conversation, cancel=cancel, max_tokens=200):
        chunks.append(chunk)
        if sum(1 for c in chunks if c.text) == 3:
            cancel.set()
    stats = chunks[-1].stats
    assert stats.finish_reason == "cancelled" and stats.generated_tokens <= 5, "stopped at the next token"
    partial = "".join(c.text for c in chunks)
    assert partial and engine.history(conversation)[-1].content == partial
    # the cache the stopped turn left behind changes nothing
    assert engine.ask(PARIS, conversation=cid(), max_tokens=8)[0] == before


def test_a_stop_from_another_thread(engine):
    stats, timer = None, None
    for chunk in engine.chat("Count from 1 to 100.", conversation=cid(), max_tokens=100):
        if timer is None:
            timer = threading.Timer(0.05, engine.cancel)
            timer.start()
        stats = chunk.stats or stats
    timer.join(10)
    assert stats.finish_reason == "cancelled" and stats.generated_tokens < 100
    assert engine.cancel() is False, "nothing is running any more"


def test_a_prompt_longer_than_the_window_is_shortened(engine):
    prompt = "The quick brown fox jumps over the lazy dog. " * 300 + "\nWhat animal jumps?"
    _, notices, stats = chat(engine, prompt, max_tokens=8)
    assert notices == [f"To fit the {N_CTX}-token context window, this answer shortened the prompt."]
    assert stats.prompt_tokens + stats.generated_tokens <= N_CTX
    assert engine.status()["n_ctx"] == N_CTX


def test_the_oldest_turns_are_left_out_first(engine):
    conversation = cid()
    for i in range(5):
        engine.ask(f"Remember the number {i}. " + "Filler sentence. " * 25, conversation=conversation, max_tokens=2)
    _, notices, stats = chat(engine, "Which numbers did I tell you?", conversation=conversation, max_tokens=4)
    assert notices and "left out" in notices[0] and "earlier turn" in notices[0]
    assert stats.prompt_tokens <= N_CTX - MAX_TOKENS


def test_the_largest_context_piece_is_shortened(engine):
    context = [ContextPiece("small", "x = 1"), ContextPiece("big", "row, value\n" * 2000)]
    _, notices, stats = chat(engine, "How many rows?", context=context, max_tokens=4)
    assert notices == [f"To fit the {N_CTX}-token context window, this answer shortened 1 context piece."]
    assert stats.prompt_tokens <= N_CTX - MAX_TOKENS
