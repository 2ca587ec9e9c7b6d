"""Conversation histories and their saved KV caches within a memory budget (no model)."""

from jupyter_tinyai.conversations import Conversations
from jupyter_tinyai.types import Message


def test_turns_are_kept_by_conversation():
    convs = Conversations(state_budget_bytes=100)
    convs.append("a", "hi", "hello")
    convs.append("b", "yo", "hey")
    convs.append("a", "again", "sure")
    assert convs.history("a") == [Message("user", "hi"), Message("assistant", "hello"),
                                  Message("user", "again"), Message("assistant", "sure")]
    assert convs.ids() == ["a", "b"]
    convs.history("a").clear()  # a copy: the caller cannot change what is kept
    assert len(convs.history("a")) == 4


def test_saved_caches_stay_within_the_budget_least_recently_used_first_out():
    convs = Conversations(state_budget_bytes=100)
    convs.save_state("a", "A", 40)
    convs.save_state("b", "B", 40)
    assert convs.take_state("a") == "A"  # a is now the most recently used
    convs.save_state("c", "C", 40)  # over budget: b goes
    assert convs.take_state("b") is None and convs.take_state("a") == "A" and convs.state_bytes() == 80
    convs.save_state("huge", "H", 101)  # larger than the whole budget: never kept
    assert convs.take_state("huge") is None


def test_reset_forgets_the_turns_and_the_cache():
    convs = Conversations(state_budget_bytes=100)
    convs.append("a", "hi", "hello")
    convs.save_state("a", "A", 10)
    convs.live = "a"
    convs.reset("a")
    assert convs.history("a") == [] and convs.take_state("a") is None and convs.live is None
    convs.save_state("b", "B", 10)
    convs.clear_states()
    assert convs.state_bytes() == 0 and convs.live is None
