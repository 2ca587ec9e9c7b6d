"""Edits through the host: POST /tinyai/edit and HostClient.edit, against a real host."""

from __future__ import annotations

import pytest
from helpers.fake_remote import CountingRemote

from jupyter_tinyai import edits
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import EmptyPrompt, InvalidRequest
from jupyter_tinyai.host import liveness
from jupyter_tinyai.host.client import HostClient

CELL = "def total(prices):\n    result = 0\n    for p in prices:\n        result = result + p\n    return result\n"


@pytest.mark.model
def test_the_host_proposes_the_edit_the_engine_does(client, engine):
    """Greedy: the host's rewrite of a cell is the in-process engine's, chunk by chunk."""
    wanted = engine.edit(CELL, instruction="use sum", conversation="expected-edit").result
    stream = client.edit(CELL, instruction="use sum")
    models = [chunk.model for chunk in stream if chunk.model]
    got = stream.result
    assert models == [engine.model.id]
    assert (got.answer, got.code, got.diff, got.message) == (wanted.answer, wanted.code, wanted.diff, wanted.message)
    assert got.stats.generated_tokens == wanted.stats.generated_tokens
    # the edit's turn is kept, alone, as its conversation
    assert [m.role for m in client.history("edit")] == ["user", "assistant"]


def test_an_answer_without_code_comes_back_as_the_one_line_message(isolated_home):
    server = CountingRemote("m1", answer=("I", " see", " no", " problem."))
    try:
        client = HostClient(load_settings(host="auto", remotes={"lab": {"url": server.url}}, model="lab:m1"))
        stream = client.edit(CELL, error="NameError: name 'x' is not defined")
        assert "".join(chunk.text for chunk in stream) == "I see no problem."
        assert (stream.result.code, stream.result.diff, stream.result.message) == (None, "", edits.NOT_CODE)
        sent = server.bodies[-1]["messages"]
        assert sent[0]["content"] == edits.SYSTEM and "NameError" in sent[-1]["content"]
    finally:
        server.stop()


def test_bad_edits_are_refused_in_one_line_before_the_host_is_asked(client, stop_hosts):
    with pytest.raises(EmptyPrompt, match="say what to change"):
        client.edit(CELL)
    with pytest.raises(InvalidRequest, match="'selection' must be two character offsets"):
        client.edit(CELL, instruction="x", selection=(5, 500))
    assert client.host_info(start=False) is None  # nothing was started for them


@pytest.mark.parametrize(
    "body, words",
    [
        ({"code": "", "instruction": "x"}, "the cell is empty"),
        ({"code": CELL}, "say what to change"),
        ({"code": CELL, "instruction": 3}, "'instruction' must be a string"),
        ({"code": CELL, "instruction": "x", "temperature": 9}, "'temperature' must be a number from 0 to 2"),
        ({"code": "x" * 2_000_000, "instruction": "x"}, "more than the"),
    ],
)
def test_the_host_refuses_a_bad_edit_body_with_a_400(client, body, words):
    info = client.host_info()
    code, data = liveness.request_json(info, "POST", "/tinyai/edit", body, timeout=30)
    assert code in (400, 413) and words in data["message"], data
