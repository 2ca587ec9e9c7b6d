"""The wire between host and clients: Server-Sent Events and JSON bodies.

A streamed response is a sequence of SSE events, each ``event: NAME`` + ``data: JSON``:

    queue     {"position": 2}                 requests ahead of this one in the host's queue (told
                                              on arrival and at each of the last places)
    progress  {"fraction": 0.5, "message": …} loading a model
    chunk     Chunk.to_dict()                 a piece of the answer (model, notice, text, stats)
    error     TinyAIError.to_dict()           the request failed; the stream ends
    done      {…}                             the request finished; the stream ends

OpenAI-compatible endpoints (``/v1/…``) use OpenAI's own stream format instead
(``data: {…}`` lines ending with ``data: [DONE]``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..choice import LOAD_SETTINGS  # noqa: F401 - settings a request carries, so the host loads what its client chose

RUNTIME_FILE = "tinyai-host.json"


class BadRequest(ValueError):
    """A request body the host cannot use; answered with 400 and this message."""


def encode_event(name: str, data) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def read_events(lines: Iterator[bytes]) -> Iterator[tuple[str, dict]]:
    """Parse SSE events from an iterator of raw lines (``response`` objects are one)."""
    name, data = "message", []
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield name, json.loads("\n".join(data))


def parse_json(body: bytes) -> dict:
    """The JSON object in ``body``, or :class:`BadRequest` saying what is wrong."""
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the request body is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object.")
    return data


def message_text(content) -> str:
    """The text of an OpenAI message ``content``: a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    raise BadRequest("a message's 'content' must be a string or a list of text parts.")


def error_body(message: str, kind: str = "bad_request", code: int | None = None) -> dict:
    """An error in the shape OpenAI clients expect, with our ``kind`` alongside."""
    return {"error": {"message": message, "type": kind, "code": code}, "kind": kind, "message": message}
