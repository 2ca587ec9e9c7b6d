"""A damaged chat history file is set aside (renamed, never overwritten nor deleted), the
user is told in one line, and every other conversation keeps working."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_tinyai.server.history import DamagedHistory, HistoryStore

NOTEBOOK = "work/damaged.ipynb"

GOOD = {"id": "x", "notebook": NOTEBOOK, "title": "t", "created": "2026-01-01T00:00:00+00:00",
        "updated": "2026-01-01T00:00:00+00:00", "model": None,
        "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}


def _json(**changes) -> str:
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


#: file contents (or "dir" for a folder named <id>.json) -> a word of the reason given
DAMAGED = {
    "garbage": ("\x00\x01 not json at all", "not valid JSON"),
    "truncated": (_json()[:40], "not valid JSON"),
    "updated-null": (_json(updated=None), "'updated'"),
    "no-messages": (_json(messages=...), "'messages'"),
    "bad-message": (_json(messages=[{"role": "user"}]), "a message"),
    "a-list": ("[1, 2, 3]", "not a JSON object"),
    "other-id": (_json(id="someone-else"), "id does not match"),
    "folder": ("dir", "a folder"),
}


def _write(root: str, cid: str, content: str) -> str:
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, cid + ".json")
    if content == "dir":
        os.makedirs(os.path.join(path, "inside"))
    else:
        if '"id": "x"' in content:
            content = content.replace('"id": "x"', f'"id": "{cid}"')
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
    return path


def _aside(root: str, cid: str) -> list[str]:
    return [n for n in os.listdir(root) if n.startswith(cid + ".json.damaged-")]


@pytest.fixture
def store(tmp_path):
    return HistoryStore(str(tmp_path / "history"))


@pytest.mark.parametrize("cid", list(DAMAGED))
def test_a_damaged_file_is_set_aside_not_overwritten(store, cid):
    content, reason = DAMAGED[cid]
    path = _write(store.root, cid, content)
    before = None if content == "dir" else pathlib.Path(path).read_bytes()
    with pytest.raises(DamagedHistory, match=reason):
        store.get(cid)
    [aside] = _aside(store.root, cid)
    if before is not None:
        assert pathlib.Path(store.root, aside).read_bytes() == before  # kept as it was
    # the next turn starts a new conversation and leaves the damaged one alone
    store.add_user(cid, NOTEBOOK, "again", [])
    assert [m["content"] for m in store.get(cid)["messages"]] == ["again"]
    assert _aside(store.root, cid) == [aside]


def test_setting_aside_twice_never_overwrites_the_first(store):
    for _ in range(2):
        _write(store.root, "c", "garbage")
        with pytest.raises(DamagedHistory):
            store.get("c")
    assert len(_aside(store.root, "c")) == 2


def test_an_unreadable_file_is_left_in_place_and_never_written_over(store, monkeypatch):
    from jupyter_tinyai.server import history

    store.add_user("locked", NOTEBOOK, "mine", [])
    before = pathlib.Path(store.path("locked")).read_bytes()

    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(history, "open", refused, raising=False)
    with pytest.raises(DamagedHistory, match="cannot be read") as error:
        store.get("locked")
    assert not error.value.set_aside
    with pytest.raises(DamagedHistory):
        store.add_user("locked", NOTEBOOK, "again", [])
    monkeypatch.undo()
    assert pathlib.Path(store.path("locked")).read_bytes() == before and _aside(store.root, "locked") == []


def test_the_list_skips_damaged_files_with_one_notice_each(store):
    store.add_user("good", NOTEBOOK, "fine", [])
    for cid, (content, _) in DAMAGED.items():
        _write(store.root, cid, content)
    notices: list[str] = []
    assert [c["id"] for c in store.list(NOTEBOOK, notices)] == ["good"]
    assert len(notices) == len(DAMAGED) and all("\n" not in n and "set aside as" in n for n in notices)
    again: list[str] = []
    assert [c["id"] for c in store.list(NOTEBOOK, again)] == ["good"] and again == []


# -- through the Jupyter server ------------------------------------------------------------------


def _root(jp_serverapp) -> str:
    return jp_serverapp.web_app.settings["tinyai_chat"].store.root


async def test_the_conversation_list_works_and_tells_once(jp_serverapp, jp_fetch):
    root = _root(jp_serverapp)
    HistoryStore(root).add_user("good", NOTEBOOK, "fine", [])
    for cid, (content, _) in DAMAGED.items():
        _write(root, cid, content)
    listed = json.loads((await jp_fetch("tinyai", "conversations", params={"notebook": "other.ipynb"})).body)
    assert listed["conversations"] == []  # another notebook's list: 200, not 500
    assert len(listed["notices"]) == len(DAMAGED)
    for cid in DAMAGED:
        assert len(_aside(root, cid)) == 1 and not os.path.lexists(os.path.join(root, cid + ".json"))
    listed = json.loads((await jp_fetch("tinyai", "conversations", params={"notebook": NOTEBOOK})).body)
    assert [c["id"] for c in listed["conversations"]] == ["good"] and listed["notices"] == []


async def test_opening_a_damaged_conversation_is_a_404_saying_so(jp_serverapp, jp_fetch):
    _write(_root(jp_serverapp), "broken", "garbage")
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("tinyai", "conversations", "broken")
    assert error.value.code == 404
    assert "set aside as" in json.loads(error.value.response.body)["message"]


@pytest.mark.model
@pytest.mark.timeout(300)
async def test_a_chat_on_a_file_without_messages_starts_afresh_and_says_so(tinyai, jp_serverapp, jp_fetch, jp_ws_fetch, wire):
    root = _root(jp_serverapp)
    _write(root, "no-msgs", DAMAGED["no-messages"][0])
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("m1", "Say hello.", conversation="no-msgs", notebook=NOTEBOOK, max_tokens=8))
    messages = await wire.until(ws, "m1")
    ws.close()
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "start" and kinds[-1] == "done", messages
    [notice] = [m["text"] for m in messages if m["type"] == "notice"]
    assert "set aside as" in notice and "new conversation" in notice
    assert len(_aside(root, "no-msgs")) == 1
    saved = json.loads((await jp_fetch("tinyai", "conversations", "no-msgs")).body)
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant"]


@pytest.mark.model
@pytest.mark.timeout(300)
async def test_an_exception_inside_a_turn_reaches_the_client(tinyai, jp_serverapp, jp_ws_fetch, wire, monkeypatch):
    store = jp_serverapp.web_app.settings["tinyai_chat"].store

    def broken(*args, **kwargs):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(store, "add_user", broken)
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("x1", "Say hello.", conversation="c-broken", max_tokens=8))
    error = (await wire.until(ws, "x1"))[-1]
    assert error["type"] == "error" and "the disk caught fire" in error["message"]
    monkeypatch.undo()
    # the queue was released: the next turn is answered
    ws.write_message(wire.chat("x2", "Say hello.", conversation="c-broken", max_tokens=8))
    assert (await wire.until(ws, "x2"))[-1]["type"] == "done"
    ws.close()


@pytest.mark.model
@pytest.mark.timeout(300)
async def test_a_failed_history_write_after_the_answer_is_an_error(tinyai, jp_serverapp, jp_ws_fetch, wire, monkeypatch):
    store = jp_serverapp.web_app.settings["tinyai_chat"].store

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "add_answer", broken)
    ws = await jp_ws_fetch("tinyai", "chat")
    ws.write_message(wire.chat("w1", "Say hello.", conversation="c-full", max_tokens=8))
    messages = await wire.until(ws, "w1")
    ws.close()
    assert messages[-1]["type"] == "error" and "No space left" in messages[-1]["message"]
    assert wire.tokens(messages)  # the answer was streamed before the write failed


def test_deleting_a_folder_where_a_file_should_be_sets_it_aside(store):
    _write(store.root, "dir-c", "dir")
    with pytest.raises(DamagedHistory, match="a folder") as error:
        store.delete("dir-c")
    assert error.value.set_aside and len(_aside(store.root, "dir-c")) == 1
    assert store.delete("dir-c") is False  # nothing left to delete


def test_a_file_that_cannot_be_deleted_is_left_and_said_so(store, monkeypatch):
    from jupyter_tinyai.server import history

    store.add_user("kept", NOTEBOOK, "mine", [])

    def refused(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(history.os, "remove", refused)
    with pytest.raises(DamagedHistory, match="cannot be deleted") as error:
        store.delete("kept")
    monkeypatch.undo()
    assert not error.value.set_aside and store.get("kept") is not None


async def test_deleting_a_conversation_that_is_a_folder_is_a_404_saying_so(jp_serverapp, jp_fetch):
    root = _root(jp_serverapp)
    _write(root, "folder-c", "dir")
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("tinyai", "conversations", "folder-c", method="DELETE")
    assert error.value.code == 404  # was 500
    assert "set aside as" in json.loads(error.value.response.body)["message"]
    assert len(_aside(root, "folder-c")) == 1 and not os.path.lexists(os.path.join(root, "folder-c.json"))
