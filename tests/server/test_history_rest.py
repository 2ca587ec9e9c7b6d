"""History over REST without a model: keeping an inline explanation (PATCH), and the list
of conversations started with no notebook open."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError


@pytest.fixture
def store(jp_serverapp):
    return jp_serverapp.web_app.settings["tinyai_chat"].store


async def test_patch_keeps_an_inline_explanation_in_history(store, jp_fetch):
    store.add_user("inl", "a.ipynb", "Explain what this code does.", [], inline=True)
    store.add_answer("inl", "It adds.", None)
    listed = json.loads((await jp_fetch("tinyai", "conversations", params={"notebook": "a.ipynb"})).body)
    assert listed["conversations"] == []
    response = await jp_fetch("tinyai", "conversations", "inl", method="PATCH", body=json.dumps({"inline": False}))
    assert response.code == 204
    listed = json.loads((await jp_fetch("tinyai", "conversations", params={"notebook": "a.ipynb"})).body)
    assert [c["id"] for c in listed["conversations"]] == ["inl"]


@pytest.mark.parametrize("body", ['{"inline": true}', '{"title": "x"}', "not json", "[]"])
async def test_patch_takes_only_inline_false(store, jp_fetch, body):
    store.add_user("c2", "a.ipynb", "hi", [])
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("tinyai", "conversations", "c2", method="PATCH", body=body)
    assert error.value.code == 400


async def test_patch_of_an_unknown_conversation_is_a_404(jp_fetch):
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("tinyai", "conversations", "nope", method="PATCH", body=json.dumps({"inline": False}))
    assert error.value.code == 404


async def test_chats_without_a_notebook_are_listed_with_an_empty_path(store, jp_fetch):
    store.add_user("loose", "", "hello", [])
    store.add_user("inbook", "a.ipynb", "hi", [])
    listed = json.loads((await jp_fetch("tinyai", "conversations", params={"notebook": ""})).body)
    assert [c["id"] for c in listed["conversations"]] == ["loose"]
