"""Prompt-lookup decoding on the real bundled model: the same greedy text as plain decoding
on every benchmark cell, only where llama.cpp's batches are exact, and a cache that stays
consistent wherever generation stops."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from jupyter_tinyai.backends import prompt_lookup
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.types import Message

pytestmark = [pytest.mark.model, pytest.mark.timeout(900)]

CELLS = json.loads((pathlib.Path(__file__).parents[2] / "bench" / "edit_cells.json").read_text())["cells"]


def engine_with(**settings) -> Engine:
    engine = Engine(load_settings(host="inprocess", **settings))
    engine.load()
    return engine


@pytest.fixture(scope="module")
def exact_engine():
    """Flash attention and one thread: the setting in which llama.cpp on these CPUs computes
    a batch bit for bit as single tokens (measured), so prompt lookup is used."""
    engine = engine_with(flash_attention="on", threads=1)
    yield engine
    engine.unload()


def edit(engine: Engine, cell: dict, lookup: str):
    engine.settings.prompt_lookup = lookup
    engine._backend.last_lookup = None
    outcome = engine.edit(cell["code"], instruction=cell.get("instruction"), error=cell.get("error")).result
    return outcome, engine._backend.last_lookup


@pytest.mark.parametrize("cell", CELLS, ids=[c["name"] for c in CELLS])
def test_prompt_lookup_gives_the_text_of_plain_decoding(exact_engine, cell):
    # the same cache state for each run: the prompt cached, its last token evaluated again
    edit(exact_engine, cell, "off")
    plain, none = edit(exact_engine, cell, "off")
    looked_up, figures = edit(exact_engine, cell, "on")
    assert none is None and figures is not None, "prompt lookup ran, and only when asked"
    assert figures.accepted > 10 and figures.passes < plain.stats.generated_tokens
    assert looked_up.answer == plain.answer
    assert looked_up.stats.generated_tokens == plain.stats.generated_tokens


def test_with_flash_attention_and_one_thread_batches_are_exact(exact_engine):
    backend = exact_engine._backend
    tokens = backend._prompt_tokens([Message("user", CELLS[0]["code"])])
    check = prompt_lookup.Suitability()
    assert check.exact_to_for(backend._llm, tokens, need_pay=False) >= 2 * len(tokens)
    assert check.inexact_from is None and check.batch_cost > 1


def test_auto_uses_prompt_lookup_only_where_batches_are_cheap_and_exact(exact_engine):
    check = exact_engine._backend.lookup_check
    cell = CELLS[1]
    edit(exact_engine, cell, "off")  # both runs below start with the prompt cached
    check.batch_cost = 3.0  # a 12-token pass for 3 single ones: memory-bound, as on a GPU
    looked_up, figures = edit(exact_engine, cell, "auto")
    assert figures is not None and check.exact_to > 0
    check.batch_cost = 11.0  # as these CPUs measure: compute-bound, it would not pay
    plain, none = edit(exact_engine, cell, "auto")
    assert none is None and plain.answer == looked_up.answer


def test_where_batches_are_not_exact_auto_decodes_plainly():
    engine = engine_with(flash_attention="off", threads=1)  # attention differs in a batch here
    try:
        check = engine._backend.lookup_check
        check.batch_cost = 3.0  # even were it cheap
        outcome, figures = edit(engine, CELLS[0], "auto")
        assert figures is None and check.inexact_from is not None and check.exact_to == 0
        assert outcome.stats.finish_reason == "stop"
        # "on" uses it anyway, each token the model's choice given the batch it was in
        _, figures = edit(engine, CELLS[0], "on")
        assert figures is not None and figures.accepted > 0
    finally:
        engine.unload()


def test_the_check_is_done_once_per_loaded_model(exact_engine, monkeypatch):
    calls = []
    real = prompt_lookup.batches_exact
    monkeypatch.setattr(prompt_lookup, "batches_exact", lambda *args: calls.append(args) or real(*args))
    exact_engine._backend.lookup_check.batch_cost = 3.0
    edit(exact_engine, CELLS[1], "auto")
    _, figures = edit(exact_engine, {"code": "x = 1\nprint(x)", "instruction": "rename x to y"}, "auto")
    assert len(calls) <= 2 and figures is not None
    calls.clear()
    edit(exact_engine, CELLS[1], "auto")
    assert calls == []


def test_stopping_midway_leaves_the_cache_as_plain_decoding_would(exact_engine):
    backend = exact_engine._backend
    llm = backend._llm
    prompt = backend._prompt_tokens([Message("user", "Repeat this code:\n" + CELLS[0]["code"])])
    tokens = []
    generator = prompt_lookup.generate(llm, prompt, llm._init_sampler(temp=0.0), prompt_lookup.Drafter(), 100)
    for token in generator:
        tokens.append(token)
        if len(tokens) == 40:
            break
    generator.close()
    # every token evaluated, but the last one given, is the prompt and the answer so far
    assert llm.n_tokens == len(prompt) + len(tokens) - 1
    assert np.array_equal(llm.input_ids[: llm.n_tokens], np.array(prompt + tokens[:-1], dtype=np.intc))
    # and the next answer reuses that cache
    assert next(llm.generate(prompt + tokens[:10], temp=0.0, reset=True)) == tokens[10]
