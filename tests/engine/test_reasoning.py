"""Reasoning (a <think> block) is streamed apart from the answer, never recorded in the turns
sent back to the model, and switched off through the chat template (c.TinyAI.thinking)."""

from __future__ import annotations

import pytest
from helpers.thinking_backend import ANSWER, REASONING, ThinkingBackend

from jupyter_tinyai import engine as engine_module
from jupyter_tinyai.backends.chat_template import render
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.reasoning import ReasoningSplitter, opens_reasoning
from jupyter_tinyai.types import Chunk


@pytest.fixture
def thinking_engine(monkeypatch, model_path):
    monkeypatch.setattr(engine_module, "backend_class", lambda name: ThinkingBackend)
    monkeypatch.setattr(ThinkingBackend, "template_opens", False)
    return engine_module.Engine(load_settings(host="inprocess"))


def _run(parts, inside=False):
    splitter, reasoning, answer = ReasoningSplitter(inside), [], []
    for part in parts:
        r, a = splitter.feed(part)
        reasoning.append(r)
        answer.append(a)
    r, a = splitter.flush()
    return "".join(reasoning + [r]), "".join(answer + [a])


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100])
def test_the_splitter_finds_the_tags_however_the_text_is_cut(size):
    text = "<think>\nplan it\n</think>\n\nHello, x < y and <b>."
    parts = [text[i:i + size] for i in range(0, len(text), size)]
    assert _run(parts) == ("\nplan it\n", "Hello, x < y and <b>.")


def test_the_splitter_leaves_text_without_a_block_and_the_answers_own_tags():
    assert _run(["No thinking here: a <", "b."]) == ("", "No thinking here: a <b.")
    assert _run(["Write <think>x</think> literally"]) == ("", "Write <think>x</think> literally")
    assert _run(["plan", "</think>\n\nDone"], inside=True) == ("plan", "Done")
    assert _run(["<think>never closed <"]) == ("never closed <", "")
    assert opens_reasoning("<|im_start|>assistant\n<think>\n") and not opens_reasoning("<|im_start|>assistant\n")


@pytest.mark.parametrize("opens", [False, True])
def test_reasoning_streams_apart_and_is_not_in_the_history(thinking_engine, monkeypatch, opens):
    monkeypatch.setattr(ThinkingBackend, "template_opens", opens)
    chunks = list(thinking_engine.chat("What is 2 + 2?", conversation="c"))
    reasoning = "".join(c.reasoning for c in chunks)
    text = "".join(c.text for c in chunks)
    assert reasoning.strip() == REASONING and text == ANSWER
    assert all("<think>" not in c.text and "</think>" not in c.text for c in chunks)
    history = thinking_engine.history("c")
    assert [m.content for m in history] == [history[0].content, ANSWER]
    # the next turn sends the model its answer only, never the reasoning
    list(thinking_engine.chat("And 3 + 3?", conversation="c"))
    sent = ThinkingBackend.last["messages"]
    assert any(m.content == ANSWER for m in sent) and not any("shutil" in m.content for m in sent)


def test_thinking_off_reaches_the_chat_template(thinking_engine):
    list(thinking_engine.chat("Hi", conversation="on"))
    assert ThinkingBackend.last["params"].thinking is True
    thinking_engine.settings.thinking = False
    list(thinking_engine.chat("Hi", conversation="off"))
    assert ThinkingBackend.last["params"].thinking is False
    # a Qwen3-style template closes the block at once when enable_thinking is false
    template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                "<|im_start|>assistant\n{% if enable_thinking is defined and enable_thinking is false %}"
                "<think>\n\n</think>\n\n{% endif %}")
    messages = [{"role": "user", "content": "Hi"}]
    assert render(template, messages).endswith("<|im_start|>assistant\n")
    assert render(template, messages, thinking=False).endswith("<think>\n\n</think>\n\n")


def test_a_chunk_carries_reasoning_over_the_wire():
    chunk = Chunk(reasoning="hmm")
    assert chunk.to_dict() == {"reasoning": "hmm"} and Chunk.from_dict(chunk.to_dict()).reasoning == "hmm"
    assert "reasoning" not in Chunk(text="a").to_dict()


def test_a_clients_thinking_setting_reaches_the_host_for_its_request_only():
    from jupyter_tinyai.choice import settings_body
    from jupyter_tinyai.host.state import HostState

    state = HostState(load_settings(host="inprocess"), 0, 0)
    assert settings_body(load_settings(thinking=False))["thinking"] is False
    state.apply_settings(settings_body(load_settings(thinking=False)))
    assert state.engine.settings.thinking is False
    state.apply_settings({})  # a request that sends none: the host's own again
    assert state.engine.settings.thinking is True
