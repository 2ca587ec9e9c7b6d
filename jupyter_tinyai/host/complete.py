"""The host's completion endpoint: code completions beside the queue, on the completion lane.

    POST /tinyai/complete  {"id", "prefix", "suffix", "extra": [{"label", "text"}], "model",
                            "language", "max_tokens", "max_lines", "time_budget", "session",
                            "settings": {…, "completion_model"}}
        SSE: chunk…, done | error

A completion never waits in the host's queue behind a chat answer: it runs at once on the
engine's completion lane (a llama.cpp context of its own), and a new request of the same
``session`` ends the one in progress. A bad request is a 400 before the stream starts.
"""

from __future__ import annotations

from .. import models
from ..choice import LOAD_SETTINGS
from ..completion.lane import CompletionRequest, check_request
from ..completion.wire import complete_kwargs
from ..config import TinyAI
from ..validation import field
from .handler import Handler
from .protocol import BadRequest


def finding_settings(values, base: dict, engine_settings) -> TinyAI:
    """The settings that find a request's completion model: its client's (``values``, as
    :func:`~jupyter_tinyai.choice.settings_body` sends them, plus ``completion_model``), the
    host's own for those it did not send. The engine's settings are left as they are."""
    if not isinstance(values, dict):
        raise BadRequest("'settings' must be a JSON object.")
    settings = TinyAI()
    for name in LOAD_SETTINGS:
        value = values[name] if values.get(name) is not None else base[name]
        try:
            setattr(settings, name, value)
        except Exception as exc:  # noqa: BLE001 - traitlets' TraitError and friends
            raise BadRequest(f"bad value for setting {name!r}: {exc}") from None
    chosen = values.get("completion_model")
    if chosen is not None and not isinstance(chosen, str):
        raise BadRequest("'completion_model' must be text.")
    settings.completion_model = chosen if chosen is not None else engine_settings.completion_model
    return settings


def handle_complete(h: Handler) -> None:
    data = h.body()
    engine = h.state.engine
    request = check_request(CompletionRequest(**complete_kwargs(data)), engine.settings)
    finding = finding_settings(data.get("settings") or {}, h.state.base, engine.settings)
    if request.model:  # an unknown name is a 404 at the door, not an error in the stream
        models.resolve(request.model, finding)
    req = h.state.register(field(data, "id", str), "complete")
    h.state.scheduler.touch()  # typing is activity: the model stays loaded

    def run(emit):
        stream = engine.completion.complete(request, req.cancel, finding)
        try:
            for chunk in stream:
                emit("chunk", chunk.to_dict())
        finally:
            stream.close()
        emit("done", {})

    h.stream(req, run, queued=False)
