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

from .. import sse
from ..choice import LOAD_SETTINGS  # noqa: F401 - settings a request carries, so the host loads what its client chose
from ..errors import InvalidRequest, TinyAIError

RUNTIME_FILE = "tinyai-host.json"


class BadRequest(InvalidRequest):
    """A request body the host cannot use; answered with 400 and this message."""


def encode_event(name: str, data) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def read_events(lines: Iterator[bytes]) -> Iterator[tuple[str, dict]]:
    """The host's events in an iterator of raw lines (``response`` objects are one), their
    data decoded from JSON."""
    for name, data in sse.events(lines):
        yield name, json.loads(data)


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


def error_body(error: TinyAIError, code: int | None = None) -> dict:
    """``error`` in the shape OpenAI clients expect, with our ``to_dict()`` alongside."""
    wire = error.to_dict()
    return {"error": {"message": wire["message"], "type": wire["kind"], "code": code}, **wire}
