"""The completion a fresh lane gives (nothing cached, no extra context from earlier requests):
what a front end must print for the same request."""

from __future__ import annotations

from jupyter_tinyai.completion.lane import CompletionLane, CompletionRequest
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.types import collect


def fresh_completion(prefix: str, suffix: str = "", **kwargs) -> str:
    lane = CompletionLane(load_settings(host="inprocess"))
    try:
        return collect(lane.complete(CompletionRequest(prefix, suffix, **kwargs)))[0]
    finally:
        lane.close()
