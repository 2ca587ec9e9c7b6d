"""The one queue (the host's and the in-process engine's): one request at a time, in order,
each waiter told its place on arrival and at each of the last QUEUE_UPDATES places."""

import threading

import pytest

from jupyter_tinyai.scheduler import QUEUE_UPDATES, Cancelled, Request, Scheduler, queued_chunk


def test_waiters_hear_their_place_on_arrival_then_only_near_the_front():
    scheduler = Scheduler()
    first = Request("first", "chat")
    assert list(scheduler.wait(first)) == []  # nothing ahead: its turn at once, nothing said
    waiters = [Request(f"r{i}", "chat") for i in range(10)]
    gens = [scheduler.wait(r) for r in waiters]
    heard = {r.id: [next(g)] for r, g in zip(waiters, gens)}  # each joins, hears its place
    assert [heard[r.id][0] for r in waiters] == list(range(1, 11))
    assert scheduler.waiting() == 10
    scheduler.done(first)
    for r, g in zip(waiters, gens):  # each in turn: its remaining places, then its turn
        heard[r.id] += list(g)
        scheduler.done(r)
    assert heard["r9"] == [10, 3, 2, 1] and heard["r0"] == [1]
    assert all(len(places) <= 1 + QUEUE_UPDATES for places in heard.values())
    assert scheduler.idle()


def test_a_cancelled_waiter_leaves_and_the_next_moves_up():
    scheduler = Scheduler()
    running, gone, next_one = Request("a", "chat"), Request("b", "chat"), Request("c", "chat")
    list(scheduler.wait(running))
    gone_wait, next_wait = scheduler.wait(gone), scheduler.wait(next_one)
    assert next(gone_wait) == 1 and next(next_wait) == 2
    gone.cancel.set()
    with pytest.raises(Cancelled):
        next(gone_wait)
    assert next(next_wait) == 1  # moved up
    next_wait.close()  # a waiter that goes away leaves the queue too
    assert scheduler.waiting() == 0
    scheduler.done(running)
    assert scheduler.idle()


def test_turns_run_one_at_a_time_across_threads():
    scheduler, inside, most = Scheduler(), [0], [0]
    lock = threading.Lock()

    def work(i):
        with scheduler.turn(Request(str(i), "chat")):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most[0] == 1 and scheduler.idle()


def test_a_place_is_a_chunk_with_a_notice():
    chunk = queued_chunk(2)
    assert chunk.queued == 2 and chunk.notice == "waiting for 2 earlier requests in the model's queue"
    assert queued_chunk(1).notice == "waiting for 1 earlier request in the model's queue"
