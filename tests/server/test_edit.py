"""POST tinyai/edit against a real Jupyter server: the proposed cell streams as JSON lines,
then its diff, or one line saying why there is nothing to apply."""

from __future__ import annotations

import json
import os

import pytest
from helpers.fake_remote import CountingRemote
from tornado.httpclient import HTTPClientError

from jupyter_tinyai import api, edits
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine

CELL = "def total(prices):\n    result = 0\n    for p in prices:\n        result = result + p\n    return result\n"


def lines(response) -> list[dict]:
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.body.decode().splitlines()]


async def post(jp_fetch, body):
    return await jp_fetch("tinyai", "edit", method="POST", body=json.dumps(body))


@pytest.mark.model
async def test_the_proposed_cell_streams_then_its_diff(tinyai, jp_fetch):
    wanted = tinyai.edit(CELL, instruction="use sum", conversation="expected-edit").result
    messages = lines(await post(jp_fetch, {"code": CELL, "instruction": "use sum"}))
    assert messages[0] == {"type": "start", "model": tinyai.model.id}
    assert "".join(m["text"] for m in messages if m["type"] == "token") == wanted.answer
    done = messages[-1]
    assert done["type"] == "done" and (done["code"], done["diff"], done["message"]) == (wanted.code, wanted.diff, wanted.message)
    assert done["stats"]["generated_tokens"] == wanted.stats.generated_tokens


@pytest.fixture
def scripted(jp_serverapp):
    """The server's client answers from a scripted OpenAI-compatible server (the model is not
    under test here: what the endpoint does with its answer is)."""
    servers = []

    def answer(*deltas):
        server = CountingRemote("m1", answer=deltas)
        servers.append(server)
        api.set_default_client(Engine(load_settings(host="inprocess", remotes={"lab": {"url": server.url}}, model="lab:m1")))
        return server

    before = api._client
    yield answer
    api.set_default_client(before)
    for server in servers:
        server.stop()


async def test_an_answer_without_code_ends_with_the_one_line_message(scripted, jp_fetch):
    scripted("I", " see", " no", " problem.")
    messages = lines(await post(jp_fetch, {"code": CELL, "error": "NameError: name 'x' is not defined"}))
    assert [m["text"] for m in messages if m["type"] == "token"] == ["I", " see", " no", " problem."]
    assert messages[-1]["type"] == "done" and (messages[-1]["code"], messages[-1]["diff"]) == (None, "")
    assert messages[-1]["message"] == edits.NOT_CODE


async def test_a_selection_is_the_only_part_replaced(scripted, jp_fetch):
    server = scripted("```python\n", "total = sum(prices)\n", "```")
    start = CELL.index("    result = 0")
    end = CELL.index("    return")
    done = lines(await post(jp_fetch, {"code": CELL, "instruction": "use sum", "selection": [start, end]}))[-1]
    assert done["code"] == CELL[:start] + "    total = sum(prices)\n" + CELL[end:]
    assert "Change this part of it: use sum" in server.bodies[-1]["messages"][-1]["content"]


async def get_json(jp_fetch, *parts, **params):
    return json.loads((await jp_fetch("tinyai", *parts, params=params)).body)


async def test_an_edit_with_a_conversation_is_recorded_as_an_inline_turn(scripted, jp_fetch, jp_ws_fetch, wire):
    """"Continue in sidebar": the fix's turn is in the history (out of History until kept),
    and a follow-up question in the sidebar sends the model the request and the proposal."""
    server = scripted("```python\n", "def total(prices):\n    return sum(prices)\n", "```")
    error = "\x1b[31mNameError\x1b[0m: name 'x' is not defined"
    body = {"code": CELL, "error": error, "conversation": "fix-1", "notebook": "nb.ipynb", "cell": "cell 2"}
    done = lines(await post(jp_fetch, body))[-1]
    assert done["type"] == "done" and done["conversation"] == "fix-1"
    assert (await get_json(jp_fetch, "conversations", notebook="nb.ipynb"))["conversations"] == []
    stored = await get_json(jp_fetch, "conversations", "fix-1")
    user, answer = stored["messages"]
    assert (user["role"], user["content"]) == ("user", "Fix this error.")
    assert user["context"] == [{"label": "Code (cell 2)", "text": CELL},
                               {"label": "Error (cell 2)", "text": "NameError: name 'x' is not defined"}]
    assert (answer["role"], answer["content"]) == ("assistant", f"```python\n{done['code'].strip()}\n```")
    assert answer["model"] == "m1" and stored["notebook"] == "nb.ipynb"

    await jp_fetch("tinyai", "conversations", "fix-1", method="PATCH", body=json.dumps({"inline": False}))
    listed = (await get_json(jp_fetch, "conversations", notebook="nb.ipynb"))["conversations"]
    assert [c["id"] for c in listed] == ["fix-1"]
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("q", "Why sum?", conversation="fix-1"))
    assert (await wire.until(ws, "q"))[-1]["type"] == "done"
    ws.close()
    sent = server.bodies[-1]["messages"]
    assert [m["role"] for m in sent[-3:]] == ["user", "assistant", "user"]
    assert CELL.strip() in sent[-3]["content"] and "NameError" in sent[-3]["content"]
    assert "return sum(prices)" in sent[-2]["content"] and sent[-1]["content"].endswith("Why sum?")


async def test_an_edit_instruction_and_its_selection_are_the_recorded_request(scripted, jp_fetch):
    scripted("No", " code", " here.")
    start, end = CELL.index("    result = 0"), CELL.index("    return")
    body = {"code": CELL, "instruction": "use sum", "selection": [start, end], "conversation": "ed-1"}
    done = lines(await post(jp_fetch, body))[-1]
    assert done["code"] is None and done["conversation"] == "ed-1"
    user, answer = (await get_json(jp_fetch, "conversations", "ed-1"))["messages"]
    assert user["content"] == "use sum"
    assert [p["label"] for p in user["context"]] == ["Code", "Selection: the part to change"]
    assert "result = result + p" in user["context"][1]["text"]
    assert answer["content"] == "No code here."  # what the model said, when it proposed nothing


async def test_an_edit_without_a_conversation_is_not_recorded(scripted, jp_fetch, jp_serverapp):
    scripted("```python\n", "x = 1\n", "```")
    done = lines(await post(jp_fetch, {"code": CELL, "instruction": "use sum"}))[-1]
    assert done["type"] == "done" and done["code"] == "x = 1\n" and "conversation" not in done
    root = jp_serverapp.web_app.settings["tinyai_chat"].store.root
    assert not os.path.isdir(root) or os.listdir(root) == []


@pytest.mark.parametrize(
    "body, words",
    [
        ({"instruction": "x"}, "the cell is empty"),
        ({"code": CELL}, "say what to change"),
        ({"code": CELL, "instruction": "x", "selection": [3, 1]}, "'selection' must be two character offsets"),
        ({"code": CELL, "instruction": "x", "model": 5}, "'model' must be a model id"),
        ({"code": CELL, "instruction": "x", "max_tokens": 0}, "'max_tokens' must be a whole number"),
        ({"code": CELL, "instruction": "x", "conversation": "../x"}, "'conversation' must be 1-128 letters"),
        ({"code": CELL, "instruction": "x", "conversation": "c", "notebook": 3}, "'notebook' must be a string"),
        ({"code": CELL, "instruction": "x", "conversation": "c", "cell": ["c"]}, "'cell' must be the cell's name"),
    ],
)
async def test_a_bad_edit_is_a_400_saying_what_to_do(jp_serverapp, jp_fetch, body, words):
    with pytest.raises(HTTPClientError) as refused:
        await post(jp_fetch, body)
    assert refused.value.code == 400
    error = json.loads(refused.value.response.body)
    assert words in error["message"] and "\n" not in error["message"]


async def test_closing_the_connection_stops_the_answer(jp_serverapp, http_server_client, jp_auth_header, jp_base_url):
    """A browser that leaves (Reject, Stop, a closed tab) stops the model within a token."""
    import asyncio

    from remote.scripted import Scripted

    with Scripted(chat="forever") as server:  # streams words until its client goes
        engine = Engine(load_settings(host="inprocess", remotes={"lab": {"url": server.url}}, model="lab:scripted"))
        before = api._client
        api.set_default_client(engine)
        try:
            body = json.dumps({"code": CELL, "instruction": "use sum", "max_tokens": 100_000}).encode()
            headers = "".join(f"{k}: {v}\r\n" for k, v in jp_auth_header.items())
            reader, writer = await asyncio.open_connection("127.0.0.1", http_server_client.get_http_port())
            writer.write(
                f"POST {jp_base_url}tinyai/edit HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
            )
            tokens = 0
            while tokens < 2:
                line = await asyncio.wait_for(reader.readline(), 60)
                assert line, "the server closed the stream"
                tokens += b'"type": "token"' in line
            writer.close()
            await asyncio.get_running_loop().run_in_executor(None, server.client_left.wait, 60)
            assert server.client_left.is_set()
            for _ in range(600):  # the engine records the stopped answer once its turn ends
                if engine.last_stats is not None:
                    break
                await asyncio.sleep(0.1)
            assert engine.last_stats.finish_reason == "cancelled"
        finally:
            api.set_default_client(before)
