"""Prompt building and budgeting, without a model (the engine's shortening with a real model
is in tests/backends/test_conformance.py)."""

from jupyter_tinyai.prompts import TRUNCATED, fit


def test_shortening_keeps_head_and_tail_with_one_marker():
    def count(messages):  # one token per 4 characters
        return sum(len(m.content) for m in messages) // 4

    prompt = "START " + "middle " * 2000 + " END?"
    budget = fit("sys", [], prompt, [], count, limit=300)
    text = budget.messages[-1].content
    assert budget.prompt_shortened and budget.tokens <= 300
    assert text.startswith("START") and text.endswith("END?")
    assert text.count(TRUNCATED.strip()) == 1
