"""Server-Sent Events: the one parser of every stream we read (the host's own, a remote
inference server's).

The event-stream format of the HTML standard: ``field: value`` lines (one space after the
colon dropped), an empty line ends an event, ``data`` lines of one event are joined with
newlines, lines starting with ``:`` are comments (keep-alive pings), an event without data
is not delivered. A stream that ends without its last empty line still delivers its last
event. Fields the standard does not define are ignored unless named in ``extra_fields``
(llama.cpp's server reports some errors as ``error: …`` lines): each such line is delivered
at once, as an event named after its field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def events(lines: Iterable[bytes], extra_fields: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """``(event name, data)`` for each event of ``lines`` (raw lines, as ``response.readline``
    gives them), as they arrive; the name is ``"message"`` when the event names none."""
    name, data = "message", []
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
        elif field in extra_fields:
            yield field, value
    if data:
        yield name, "\n".join(data)
