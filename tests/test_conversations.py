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
    assert convs.ids() == ["b", "a"], "least recently used first"
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


def test_the_least_recently_used_conversations_go_beyond_the_limit():
    # `jupyter tinyai ask` in a loop makes one conversation per call: the host keeps a bounded number
    convs = Conversations(state_budget_bytes=100, max_histories=3)
    convs.append("kernel", "hi", "hello")
    convs.save_state("kernel", "K", 10)
    for i in range(3):
        convs.append(f"cli-{i}", "q", "a")
    assert convs.ids() == ["cli-0", "cli-1", "cli-2"]
    assert convs.history("kernel") == [] and convs.take_state("kernel") is None
    convs.append("cli-0", "again", "sure")  # used again: now the most recent
    convs.append("cli-3", "q", "a")
    assert convs.ids() == ["cli-2", "cli-0", "cli-3"]
