"""The chat WebSocket against a real Jupyter server and the real bundled model."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.model, pytest.mark.timeout(300)]

NOTEBOOK = "work/analysis.ipynb"


async def test_streamed_chat_is_saved_per_notebook(tinyai, jp_fetch, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    context = [{"label": "In[1]", "text": "x = 41 + 1"}]
    ws.write_message(
        wire.chat("r1", "What is the capital of France?", conversation="c-stream", notebook=NOTEBOOK, context=context, max_tokens=24)
    )
    messages = await wire.until(ws, "r1")
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "start" and kinds[-1] == "done", kinds
    assert messages[0]["conversation"] == "c-stream"
    assert messages[0]["model"] == tinyai.model.id
    tokens = wire.tokens(messages)
    assert len(tokens) >= 3  # streamed, one message per chunk
    done = messages[-1]
    assert done["text"] == "".join(tokens) and done["text"].strip()
    assert done["stats"]["finish_reason"] in ("stop", "length")
    assert done["stats"]["generated_tokens"] >= len(tokens) - 1
    ws.close()

    listed = json.loads((await jp_fetch("tinyai", "conversations", params={"notebook": NOTEBOOK})).body)
    assert [c["id"] for c in listed["conversations"]] == ["c-stream"]
    summary = listed["conversations"][0]
    assert summary["message_count"] == 2 and summary["model"] == tinyai.model.id
    assert summary["title"] == "What is the capital of France?"
    other = json.loads((await jp_fetch("tinyai", "conversations", params={"notebook": "other.ipynb"})).body)
    assert other["conversations"] == []

    saved = json.loads((await jp_fetch("tinyai", "conversations", "c-stream")).body)
    user, answer = saved["messages"]
    assert user == {"role": "user", "content": "What is the capital of France?", "context": context, "time": user["time"]}
    assert answer["role"] == "assistant" and answer["content"] == done["text"]
    assert user["time"] <= answer["time"]  # each message has its time (ISO, UTC)
    assert answer["stats"] == done["stats"]
    # the engine saw the context with the prompt
    assert "x = 41 + 1" in tinyai.history("lab:c-stream")[0].content


async def test_stop_mid_answer_keeps_the_partial_text(tinyai, jp_fetch, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(
        wire.chat("long", "Write a long story about a dragon and a knight.", conversation="c-stop", notebook=NOTEBOOK, max_tokens=400)
    )
    seen = []
    while len(wire.tokens(seen)) < 3:
        seen.append(await wire.receive(ws))
    ws.write_message(json.dumps({"type": "stop", "id": "long"}))
    seen += await wire.until(ws, "long")
    done = seen[-1]
    assert done["type"] == "done", seen[-1]
    assert done["stats"]["finish_reason"] == "cancelled"
    assert done["stats"]["generated_tokens"] < 400
    assert done["text"] == "".join(wire.tokens(seen)) and done["text"]
    saved = json.loads((await jp_fetch("tinyai", "conversations", "c-stop")).body)
    assert saved["messages"][-1]["content"] == done["text"]
    assert saved["messages"][-1]["stats"]["finish_reason"] == "cancelled"

    # the same socket goes on answering
    ws.write_message(wire.chat("next", "Say hello.", conversation="c-stop", max_tokens=8))
    assert (await wire.until(ws, "next"))[-1]["type"] == "done"
    ws.close()


async def test_malformed_messages_get_errors_and_the_socket_stays_open(tinyai, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message("this is not json")
    error = await wire.receive(ws)
    assert error["type"] == "error" and error["kind"] == "bad_request" and "JSON" in error["message"]
    assert "id" not in error

    ws.write_message(json.dumps({"type": "chat", "id": "no-prompt"}))
    error = await wire.receive(ws)
    assert (error["type"], error["id"], error["kind"]) == ("error", "no-prompt", "bad_request")
    assert "prompt" in error["message"]

    ws.write_message(json.dumps({"type": "dance", "id": 7}))
    assert (await wire.receive(ws))["id"] == 7

    for bad in ({"conversation": "../../etc"}, {"temperature": "hot"}, {"max_tokens": 0}, {"context": ["x"]}):
        ws.write_message(wire.chat("bad", "Hi", **bad))
        error = await wire.receive(ws)
        assert error["type"] == "error" and error["id"] == "bad", (bad, error)

    ws.write_message(wire.chat("ok", "Say hello.", max_tokens=8))
    messages = await wire.until(ws, "ok")
    assert messages[-1]["type"] == "done" and messages[-1]["text"]
    ws.close()


async def test_out_of_range_numbers_get_an_error_naming_the_field(tinyai, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    # NaN and Infinity are what Python's json (and Tornado's) read and write for them
    for bad, message in (
        ({"temperature": float("nan")}, "'temperature' must be a number from 0 to 2, not nan."),
        ({"temperature": float("inf")}, "'temperature' must be a number from 0 to 2, not inf."),
        ({"temperature": 3}, "'temperature' must be a number from 0 to 2, not 3."),
        ({"max_tokens": -5}, "'max_tokens' must be a whole number from 1 to 1,000,000, not -5."),
        ({"max_tokens": 10**9}, "'max_tokens' must be a whole number from 1 to 1,000,000, not 1000000000."),
    ):
        ws.write_message(wire.chat("bad", "Hi", **bad))
        error = await wire.receive(ws)
        assert (error["type"], error["id"], error["kind"], error["message"]) == ("error", "bad", "bad_request", message)
    ws.close()


async def test_requests_queue_one_at_a_time(tinyai, jp_ws_fetch, wire):
    """The in-process engine's queue (c.TinyAI.host = "inprocess"): one answer at a time,
    each waiting request told its place, a stop while waiting ends it at once."""
    ws = await jp_ws_fetch("tinyai", "chat")
    order, by_id = [], {"a": [], "b": [], "c": []}

    async def until(rid, kind):
        while not any(m["type"] == kind for m in by_id[rid]):
            msg = await wire.receive(ws)
            by_id[msg["id"]].append(msg)
            order.append((msg["id"], msg["type"]))

    ws.write_message(wire.chat("a", "Count from one to ten.", conversation="c-q1", max_tokens=16))
    await until("a", "start")
    ws.write_message(wire.chat("b", "Say hello.", conversation="c-q2", max_tokens=8))
    await until("b", "queued")
    ws.write_message(wire.chat("c", "Say goodbye.", conversation="c-q3", max_tokens=8))
    await until("c", "queued")
    ws.write_message(json.dumps({"type": "stop", "id": "c"}))  # stopped while queued
    for rid in ("a", "b", "c"):
        await until(rid, "done")
    assert by_id["b"][0] == {"type": "queued", "id": "b", "position": 1}
    assert by_id["c"][0] == {"type": "queued", "id": "c", "position": 2}
    assert [m["type"] for m in by_id["c"]] == ["queued", "done"] and by_id["c"][-1]["stats"]["finish_reason"] == "cancelled"
    # b starts only after a is done
    assert order.index(("a", "done")) < order.index(("b", "start"))
    ws.close()


async def test_delete_conversation(tinyai, jp_fetch, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("d", "Say hello.", conversation="c-del", notebook=NOTEBOOK, max_tokens=8))
    await wire.until(ws, "d")
    ws.close()
    assert tinyai.history("lab:c-del")
    response = await jp_fetch("tinyai", "conversations", "c-del", method="DELETE")
    assert response.code == 204
    assert tinyai.history("lab:c-del") == []
    with pytest.raises(Exception) as missing:
        await jp_fetch("tinyai", "conversations", "c-del")
    assert missing.value.code == 404


async def test_an_engine_error_is_a_message_and_leaves_no_half_turn(tinyai, jp_fetch, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("e", "Hi", conversation="c-err", notebook=NOTEBOOK, model="no-such-model-anywhere"))
    error = (await wire.until(ws, "e"))[-1]
    assert error["type"] == "error" and error["kind"] == "model_not_found"
    assert "no-such-model-anywhere" in error["message"]
    with pytest.raises(Exception) as missing:  # the unanswered prompt was not kept
        await jp_fetch("tinyai", "conversations", "c-err")
    assert missing.value.code == 404
    ws.write_message(wire.chat("e2", "Say hello.", conversation="c-err", max_tokens=8))
    assert (await wire.until(ws, "e2"))[-1]["type"] == "done"
    ws.close()


async def test_closing_the_socket_stops_the_answer(tinyai, jp_fetch, jp_ws_fetch, wire):
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("gone", "Write a long story about a dragon.", conversation="c-gone", max_tokens=400))
    seen = []
    while len(wire.tokens(seen)) < 2:
        seen.append(await wire.receive(ws))
    ws.close()
    # the next request (on a new socket) waits for the stopped one, whose partial answer is saved
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("after", "Say hello.", conversation="c-after", max_tokens=8))
    assert (await wire.until(ws, "after"))[-1]["type"] == "done"
    ws.close()
    saved = json.loads((await jp_fetch("tinyai", "conversations", "c-gone")).body)
    answer = saved["messages"][-1]
    assert answer["stats"]["finish_reason"] == "cancelled" and answer["stats"]["generated_tokens"] < 400
    assert answer["content"].startswith("".join(wire.tokens(seen)))
