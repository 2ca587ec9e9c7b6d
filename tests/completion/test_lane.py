"""The completion lane with the real bundled model: reuse between keystrokes, cancelling a
stale request, completions while a chat answer streams, bad requests."""

import threading
import uuid

import pytest

from jupyter_tinyai.completion.lane import MAX_REQUEST_CHARS, CompletionLane, CompletionRequest
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import EmptyPrompt, InvalidRequest, ModelNotFound
from jupyter_tinyai.types import ContextPiece, collect

pytestmark = pytest.mark.model

PREFIX = "import numpy as np\n\n\ndef mean_squared_error(y_true, y_pred):\n    \"\"\"The mean of the squared errors.\"\"\"\n    ret"
SUFFIX = "\n\n\nprint(mean_squared_error(np.array([1, 2]), np.array([1, 3])))\n"
#: no time budget to speak of: these tests compare texts, which must not depend on the machine's speed
SLOW_OK = 120.0


def settings(**overrides):
    return load_settings(host="inprocess", **overrides)


@pytest.fixture(scope="module")
def engine():
    engine = Engine(settings())
    yield engine
    engine.completion.close()
    engine.unload()


@pytest.fixture(autouse=True)
def no_cached_completions(engine):
    """Each test asks the model: nothing is served from completions an earlier test cached."""
    engine.completion.recent.clear()


def complete(lane_or_engine, prefix=PREFIX, suffix=SUFFIX, **kwargs):
    kwargs.setdefault("time_budget", SLOW_OK)
    if isinstance(lane_or_engine, CompletionLane):
        return collect(lane_or_engine.complete(CompletionRequest(prefix, suffix, **kwargs)))
    return collect(lane_or_engine.complete(prefix, suffix, **kwargs))


def evaluated(stats):
    return stats.prompt_tokens - stats.cached_tokens


def test_a_keystroke_evaluates_only_the_changed_tail():
    lane = CompletionLane(settings())
    naive = CompletionLane(settings(), reuse=False)
    try:
        text, first = complete(lane)
        assert text.strip(), "a completion"
        assert first.cached_tokens == 0 and first.prompt_tokens > 40
        lane.recent.clear()  # ask the model again, not the cache
        _, second = complete(lane, prefix=PREFIX + "urn")
        assert second.finish_reason != "cached"
        assert second.prompt_tokens >= first.prompt_tokens
        assert evaluated(second) <= 3, "only the typed tail is evaluated"
        # a new line typed: still only the tail (the prefix is the end of the prompt)
        lane.recent.clear()
        _, third = complete(lane, prefix=PREFIX + "urn 0\n\n\ndef f(")
        assert evaluated(third) <= 10
        # with every reuse off, every request evaluates its whole prompt
        for prefix in (PREFIX, PREFIX + "urn"):
            _, fresh = complete(naive, prefix=prefix)
            assert fresh.cached_tokens == 0 and evaluated(fresh) == fresh.prompt_tokens
    finally:
        lane.close()
        naive.close()


def test_the_same_request_again_is_served_from_the_cache(engine):
    text, stats = complete(engine, prefix=PREFIX + "urn np")
    again, cached = complete(engine, prefix=PREFIX + "urn np")
    assert again == text and cached.finish_reason == "cached" and cached.prompt_tokens == 0
    if len(text) > 1:  # typing the suggestion's first character: the rest, from the cache
        rest, typed = complete(engine, prefix=PREFIX + "urn np" + text[0])
        assert rest == text[1:] and typed.finish_reason == "cached"


LONG = "# the first 300 prime numbers, on one line\nprimes = [2, 3, 5, 7, 11, 13,"


def test_a_new_request_cancels_the_stale_one_at_once(engine):
    session = uuid.uuid4().hex
    stale = engine.complete(LONG, "", max_tokens=400, max_lines=50, time_budget=SLOW_OK, session=session)
    first = next(stale)  # the stale request is generating
    assert first.text
    fresh_text, fresh = complete(engine, prefix=LONG + " 17", suffix="", max_tokens=8, session=session)
    rest, stale_stats = collect(stale)
    assert stale_stats.finish_reason == "cancelled"
    assert stale_stats.generated_tokens < 400
    assert fresh.finish_reason in ("stop", "length") and fresh_text


def test_another_sessions_request_is_not_cancelled(engine):
    one = engine.complete(LONG, "", max_tokens=12, max_lines=50, time_budget=SLOW_OK, session="one")
    next(one)
    _, other = complete(engine, prefix=LONG + " 17", suffix="", max_tokens=4, session="two")
    _, stats = collect(one)
    assert stats.finish_reason == "length" and other.finish_reason in ("stop", "length")


def chat_answer(engine, conversation, max_tokens, gate=None):
    """The chat answer's text; with ``gate``: after the first token, wait for it (the answer
    stays in the middle of its stream, its KV cache half written, while the gate is shut)."""
    parts, stats = [], None
    for chunk in engine.chat("Write a short story about a cat who learns to code.", conversation=conversation,
                             max_tokens=max_tokens):
        parts.append(chunk.text)
        stats = chunk.stats or stats
        if gate is not None and len(parts) == 1:
            gate[0].set()
            assert gate[1].wait(300)
    return "".join(parts), stats


def test_completions_while_a_chat_answer_streams():
    engine = Engine(settings())
    try:
        engine.load()
        alone, _ = complete(engine, max_tokens=16)
        baseline, base_stats = chat_answer(engine, uuid.uuid4().hex, 120)
        assert base_stats.generated_tokens > 40
        engine.unload()  # the next answer starts from the same empty cache as the baseline

        # 1. the chat answer stands still mid-stream (holding the engine) while completions run
        started, release = threading.Event(), threading.Event()
        result = {}
        chat = threading.Thread(target=lambda: result.update(
            answer=chat_answer(engine, uuid.uuid4().hex, 120, gate=(started, release))))
        chat.start()
        assert started.wait(300)
        during = []
        for _ in range(2):
            engine.completion.recent.clear()
            during.append(complete(engine, max_tokens=16))
        release.set()
        chat.join(300)
        assert result["answer"][0] == baseline, "the chat answer is not disturbed"
        assert engine.completion.status()["shares_chat_model"], "the completion used the chat model's weights"
        for text, stats in during:
            assert stats.finish_reason != "cached"
            assert text == alone, "the completion is not disturbed"

        # 2. both decode at the same time, on their own contexts
        engine.unload()
        chat = threading.Thread(target=lambda: result.update(answer=chat_answer(engine, uuid.uuid4().hex, 120)))
        chat.start()
        texts = []
        for _ in range(3):
            engine.completion.recent.clear()
            texts.append(complete(engine, max_tokens=16)[0])
        chat.join(300)
        assert result["answer"][0] == baseline
        assert texts == [alone] * 3
    finally:
        engine.completion.close()
        engine.unload()


def test_extra_context_is_prefilled_while_idle():
    lane = CompletionLane(settings())
    try:
        complete(lane)  # warm: the prompt is cached
        cell = ContextPiece("cell 1", "def rmse(a, b):\n    return np.sqrt(((a - b) ** 2).mean())\n")
        lane.recent.clear()
        _, with_chunk = complete(lane, prefix=PREFIX + "u", extra=[cell])
        assert lane.ring.pending == [cell] and lane.ring.chunks == [], "a new chunk waits for the user to pause"
        assert evaluated(with_chunk) <= 3
        assert lane.wait_idle(300)
        assert lane.ring.chunks == [cell] and lane.prefilled_tokens > 20
        lane.recent.clear()
        _, after = complete(lane, prefix=PREFIX + "ur", extra=[cell])
        assert after.prompt_tokens > with_chunk.prompt_tokens + 20, "the chunk is in the prompt"
        assert evaluated(after) <= 3, "and was evaluated while idle"
    finally:
        lane.close()


def test_unloading_the_chat_model_mid_completion_ends_it_cleanly(engine):
    engine.load()
    stream = engine.complete(LONG, "", max_tokens=400, max_lines=50, time_budget=SLOW_OK, session=uuid.uuid4().hex)
    next(stream)
    engine.unload()
    _, stats = collect(stream)
    assert stats.finish_reason == "cancelled"
    text, again = complete(engine, prefix=LONG + " 17", suffix="", max_tokens=4)
    assert again.finish_reason in ("stop", "length")


def test_bad_requests_say_what_to_do(engine):
    with pytest.raises(EmptyPrompt, match="no code before the cursor"):
        complete(engine, prefix="  \n", suffix="print(1)")
    with pytest.raises(InvalidRequest, match="max_lines"):
        complete(engine, max_lines=0)
    with pytest.raises(InvalidRequest, match="time_budget"):
        complete(engine, time_budget=-1)
    with pytest.raises(InvalidRequest, match="near the cursor"):
        complete(engine, suffix="x = 1\n" * (MAX_REQUEST_CHARS // 6 + 1))
    with pytest.raises(ModelNotFound, match="no-such-model"):
        complete(engine, model="no-such-model")
    # a huge suffix is cut to its share of the context
    text, stats = complete(engine, suffix="\n" + "value = compute(value)\n" * 40_000, max_tokens=8)
    n_ctx = engine.completion.status()["n_ctx"]
    assert stats.prompt_tokens + 8 <= n_ctx and stats.prompt_tokens > n_ctx // 4


def test_the_callers_cancel_event_is_left_alone_when_the_completion_ends(engine):
    cancel = threading.Event()
    text, stats = complete(engine, max_tokens=4, cancel=cancel)
    assert stats.finish_reason in ("stop", "length") and not cancel.is_set()
    stream = engine.complete(LONG, "", max_tokens=400, max_lines=50, time_budget=SLOW_OK, cancel=cancel,
                             session=uuid.uuid4().hex)
    next(stream)
    stream.close()  # a reader that stops early ends the generation
    assert cancel.is_set()


def test_the_figures_of_a_completion(engine):
    _, stats = complete(engine, max_tokens=16)
    assert stats.generated_tokens > 1 and stats.tokens_per_s > 0
    assert stats.summary().startswith(f"{stats.model} · {stats.prompt_tokens} prompt + {stats.generated_tokens} tokens")
    _, cached = complete(engine, max_tokens=16)
    assert cached.summary().endswith("from recent completions")
