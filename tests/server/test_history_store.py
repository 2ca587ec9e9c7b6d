"""The chat history store (plain files) and the engine's rebuilt turns."""

from __future__ import annotations

import json
import os
import stat

import pytest

from jupyter_tinyai.server.history import HistoryStore, engine_messages
from jupyter_tinyai.types import Message


@pytest.fixture
def store(tmp_path):
    return HistoryStore(str(tmp_path / "history"))


def test_default_root_is_under_the_jupyter_data_dir(isolated_home):
    assert HistoryStore().root == os.path.join(os.environ["JUPYTER_DATA_DIR"], "tinyai", "history")


def test_turns_are_written_user_only_and_atomically(store):
    store.add_user("c1", "a.ipynb", "  What   is\nthis? " * 10, [{"label": "In[1]", "text": "1 + 1"}])
    store.add_answer("c1", "Two.", {"model": "m1", "finish_reason": "stop"})
    assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700
    path = os.path.join(store.root, "c1.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(store.root) == ["c1.json"]
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    assert data["title"].startswith("What is this? What") and len(data["title"]) <= 60
    assert data["model"] == "m1" and len(data["messages"]) == 2
    assert data["messages"][0]["context"] == [{"label": "In[1]", "text": "1 + 1"}]


def test_a_failed_write_leaves_the_old_file(store, monkeypatch):
    store.add_user("c1", "a.ipynb", "first", [])

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken)
    with pytest.raises(OSError):
        store.add_answer("c1", "answer", None)
    monkeypatch.undo()
    assert [m["content"] for m in store.get("c1")["messages"]] == ["first"]
    assert os.listdir(store.root) == ["c1.json"]


def test_list_per_notebook_newest_first(store):
    for cid, notebook in (("a", "x.ipynb"), ("b", "y.ipynb"), ("c", "x.ipynb")):
        store.add_user(cid, notebook, f"prompt {cid}", [])
    store.add_answer("a", "later", None)  # 'a' is now the most recently updated
    assert [c["id"] for c in store.list("x.ipynb")] == ["a", "c"]
    assert {c["id"] for c in store.list()} == {"a", "b", "c"}
    assert store.list("z.ipynb") == []
    assert store.list("x.ipynb")[0] == {
        "id": "a", "notebook": "x.ipynb", "title": "prompt a", "updated": store.get("a")["updated"],
        "created": store.get("a")["created"], "model": None, "message_count": 2, "last_prompt": "",
    }


def test_unanswered_and_deleted(store):
    store.add_user("c1", "", "hello", [])
    store.drop_unanswered("c1")
    assert store.get("c1") is None  # nothing left: the conversation is gone
    store.add_user("c2", "", "hello", [])
    store.delete("c2")
    store.add_answer("c2", "too late", None)  # an answer to a deleted conversation is dropped
    assert store.get("c2") is None and store.delete("c2") is False


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "x" * 129, "a.b"])
def test_bad_ids_are_refused(store, bad):
    with pytest.raises(ValueError):
        store.path(bad)


def test_engine_messages_render_context_and_skip_unanswered():
    saved = [
        {"role": "user", "content": "Why?", "context": [{"label": "In[1]", "text": "1/0"}]},
        {"role": "assistant", "content": "Division by zero.", "stats": {}},
        {"role": "user", "content": "crashed before an answer"},
    ]
    assert engine_messages(saved) == [
        Message("user", "In[1]:\n```\n1/0\n```\n\nWhy?"),
        Message("assistant", "Division by zero."),
    ]


@pytest.mark.model
def test_engine_set_history_feeds_earlier_turns(engine):
    engine.set_history("t-set", [Message("user", "My name is Ada."), Message("assistant", "Hello Ada.")])
    assert engine.history("t-set") == [Message("user", "My name is Ada."), Message("assistant", "Hello Ada.")]
    _, with_history = engine.ask("What is my name?", conversation="t-set", max_tokens=4)
    _, without = engine.ask("What is my name?", conversation="t-unset", max_tokens=4)
    assert with_history.prompt_tokens > without.prompt_tokens
    assert len(engine.history("t-set")) == 4
    engine.set_history("t-set", [])
    assert engine.history("t-set") == []


def test_an_inline_explanation_stays_out_of_the_list_until_continued(store):
    store.add_user("inline1", "a.ipynb", "Explain what this code does.", [], inline=True)
    store.add_answer("inline1", "It adds.", {"finish_reason": "stop"})
    store.add_user("chat1", "a.ipynb", "What is x?", [])
    assert [c["id"] for c in store.list("a.ipynb")] == ["chat1"]  # dismissed: not in History
    assert store.keep("inline1") is True  # "Continue in sidebar"
    assert sorted(c["id"] for c in store.list("a.ipynb")) == ["chat1", "inline1"]
    assert store.keep("nope") is False


def test_an_inline_explanation_never_continued_is_deleted_a_week_later(store):
    for cid in ("old-inline", "new-inline", "old-chat"):
        store.add_user(cid, "a.ipynb", "Explain this.", [], inline=cid.endswith("inline"))
        store.add_answer(cid, "It adds.", None)
    for cid in ("old-inline", "old-chat"):  # last used eight days ago
        with open(store.path(cid), encoding="utf-8") as f:
            data = json.load(f)
        data["updated"] = "2026-01-01T00:00:00+00:00" if cid == "old-chat" else _days_ago(8)
        with open(store.path(cid), "w", encoding="utf-8") as f:
            json.dump(data, f)
    assert [c["id"] for c in store.list("a.ipynb")] == ["old-chat"]
    assert not os.path.exists(store.path("old-inline"))  # dismissed and never continued: gone
    assert store.get("new-inline") is not None and store.get("old-chat") is not None


def _days_ago(days: int) -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")


def test_a_sidebar_turn_keeps_an_inline_explanation_in_the_list(store):
    store.add_user("inline2", "a.ipynb", "Explain this error.", [], inline=True)
    store.add_answer("inline2", "A typo.", None)
    store.add_user("inline2", "a.ipynb", "How do I fix it?", [])  # asked in the sidebar
    assert [c["id"] for c in store.list("a.ipynb")] == ["inline2"]


def test_conversations_without_a_notebook_are_listed_under_the_empty_path(store):
    store.add_user("loose", "", "hello", [])
    store.add_user("inbook", "a.ipynb", "hi", [])
    assert [c["id"] for c in store.list("")] == ["loose"]
    assert sorted(c["id"] for c in store.list()) == ["inbook", "loose"]


def test_a_summary_has_the_creation_date_and_the_last_prompt(store):
    store.add_user("c1", "a.ipynb", "plot it", [])
    store.add_answer("c1", "Done.", None)
    (one,) = store.list()
    assert one["created"] and one["last_prompt"] == ""  # one prompt: the title says it
    store.add_user("c1", "a.ipynb", "now   in red", [])
    (one,) = store.list()
    assert one["title"] == "plot it" and one["last_prompt"] == "now in red"


def test_each_message_has_its_time(store):
    store.add_user("t1", "a.ipynb", "q", [])
    store.add_answer("t1", "a", {"model": "llamacpp:x"})
    user, answer = store.get("t1")["messages"]
    assert user["time"] <= answer["time"] and answer["time"].endswith("+00:00")
