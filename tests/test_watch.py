"""The one background watcher helper (the host's timers, disconnect watcher, cancel forwarding)."""

import threading

from jupyter_tinyai.watch import every, when


def test_every_calls_until_done_or_told_to_stop():
    calls, stop = [], threading.Event()
    thread = every(0.001, lambda: calls.append(1) or len(calls) == 3, until=stop, name="t")
    thread.join(10)
    assert not thread.is_alive() and len(calls) == 3  # done: check() said so
    stop.set()
    thread = every(0.001, lambda: calls.append(1), until=stop, name="t")
    thread.join(10)
    assert not thread.is_alive() and len(calls) == 3  # stopped before the first call


def test_when_acts_once_on_the_event_unless_the_other_comes_first():
    event, unless, acted = threading.Event(), threading.Event(), []
    thread = when(event, lambda: acted.append(1), unless=unless, name="t")
    event.set()
    thread.join(10)
    assert acted == [1] and not thread.is_alive()

    event, unless = threading.Event(), threading.Event()
    thread = when(event, lambda: acted.append(2), unless=unless, name="t")
    unless.set()
    event.set()
    thread.join(10)
    assert acted == [1] and not thread.is_alive()
