"""A stop that arrives while llama.cpp reads a long prompt ends the answer between two
batches of the prompt, not after the whole prompt (thousands of tokens can take a minute on
a busy CPU, and the host's queue would wait that long for an answer nobody reads)."""

import threading
import uuid

import pytest

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine

pytestmark = [pytest.mark.model, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def engine():
    engine = Engine(load_settings(host="inprocess", backend="llamacpp", n_ctx=4096, max_tokens=8))
    engine.load()
    yield engine
    engine.unload()


def test_a_stop_while_the_prompt_is_read_ends_it_between_batches(engine):
    llm = engine._backend._llm
    cancel, batches = threading.Event(), []
    real_eval = llm.eval

    def eval_then_stop(tokens):  # the user presses Stop while the first batch is evaluated
        batches.append(len(tokens))
        real_eval(tokens)
        cancel.set()

    prompt = "The quick brown fox jumps over the lazy dog. " * 250 + "\nWhich animal jumps?"
    llm.eval = eval_then_stop
    try:
        chunks = list(engine.chat(prompt, conversation=uuid.uuid4().hex, cancel=cancel))
    finally:
        del llm.eval
    stats = chunks[-1].stats
    assert stats.prompt_tokens > 4 * llm.n_batch, "a prompt of several batches"
    assert stats.finish_reason == "cancelled" and stats.generated_tokens == 0
    assert "".join(c.text for c in chunks) == ""
    assert batches == [llm.n_batch], "only the batch under way when Stop came was evaluated"
    assert llm.n_tokens < stats.prompt_tokens


def test_after_such_a_stop_the_same_prompt_answers_as_before(engine):
    prompt = "The quick brown fox jumps over the lazy dog. " * 120 + "\nWhich animal jumps?"
    before, _ = engine.ask(prompt, conversation=uuid.uuid4().hex)
    cancel = threading.Event()
    real_eval, llm = engine._backend._llm.eval, engine._backend._llm

    def eval_then_stop(tokens):
        real_eval(tokens)
        cancel.set()

    llm.eval = eval_then_stop
    try:
        list(engine.chat(prompt.replace("fox", "cat"), conversation=uuid.uuid4().hex, cancel=cancel))
    finally:
        del llm.eval
    assert engine.ask(prompt, conversation=uuid.uuid4().hex)[0] == before
