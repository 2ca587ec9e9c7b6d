"""The one Server-Sent Events parser (jupyter_tinyai/sse.py), read by the host client and
the remote backend."""

from __future__ import annotations

from jupyter_tinyai import sse
from jupyter_tinyai.host.protocol import encode_event, read_events


def lines(text: str) -> list[bytes]:
    return [line.encode() for line in text.splitlines(keepends=True)]


def test_events_with_and_without_names_comments_and_multi_line_data():
    stream = ": keep-alive\n\nevent: chunk\ndata: {\"a\":\ndata:  1}\n\ndata:[DONE]\r\n\r\n"
    assert list(sse.events(lines(stream))) == [("chunk", '{"a":\n 1}'), ("message", "[DONE]")]


def test_an_event_without_data_is_not_delivered_and_the_name_resets():
    assert list(sse.events(lines("event: queue\n\ndata: x\n\n"))) == [("message", "x")]


def test_the_last_event_of_a_stream_cut_before_its_blank_line_is_delivered():
    assert list(sse.events(lines("data: one\n\ndata: two"))) == [("message", "one"), ("message", "two")]


def test_unknown_fields_are_ignored_unless_asked_for():
    stream = 'data: a\nerror: {"message": "oom"}\nid: 7\nretry: 10\n\n'
    assert list(sse.events(lines(stream))) == [("message", "a")]
    assert list(sse.events(lines(stream), extra_fields=("error",))) == [("error", '{"message": "oom"}'), ("message", "a")]


def test_bytes_that_are_not_utf8_do_not_stop_the_stream():
    assert list(sse.events([b"data: caf\xe9\n", b"\n", b"data: ok\n", b"\n"])) == [("message", "caf\ufffd"), ("message", "ok")]


def test_the_host_reads_what_it_writes():
    wire = encode_event("queue", {"position": 2}) + b": keep-alive\n\n" + encode_event("done", {"text": "a\nb"})
    assert list(read_events(iter(lines(wire.decode())))) == [("queue", {"position": 2}), ("done", {"text": "a\nb"})]
