"""The allowed values of a request, one rule for every way in: the host's ``/tinyai/chat``
and OpenAI-compatible ``/v1/chat/completions``, the sidebar's WebSocket (all through
:func:`chat_request`), the magics' and the CLI's options, and ``Engine.chat``.

    temperature  a number from 0 to 2 (0: greedy decoding)
    max_tokens   a whole number from 1 to 1,000,000 (an answer is also capped by the context window)
    seed         a whole number from 0 to 4294967295, or -1 for a new seed each time

``None`` always means "not given: use the configured default". A bad value raises
:class:`~jupyter_tinyai.errors.InvalidRequest` with a one-line message naming the field and
the allowed range.
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass
from dataclasses import field as _field

from .errors import EmptyPrompt, InvalidRequest
from .prompts import check_prompt_size
from .types import ContextPiece

TEMPERATURE_MAX = 2.0  # OpenAI's upper bound; beyond it sampling is noise
MAX_TOKENS_MAX = 1_000_000  # above any context window in use; catches typos and overflow
SEED_MAX = 2**32 - 1  # llama.cpp's seeds are 32-bit

#: the allowed range of each field, as the messages say it
RANGES = {
    "temperature": "a number from 0 to 2",
    "max_tokens": f"a whole number from 1 to {MAX_TOKENS_MAX:,}",
    "seed": f"a whole number from 0 to {SEED_MAX}, or -1 for a new seed each time",
}


def _bad(name: str, value) -> InvalidRequest:
    shown = repr(value) if isinstance(value, (str, bool)) or value is None else str(value)
    return InvalidRequest(f"'{name}' must be {RANGES[name]}, not {shown}.")


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_temperature(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad("temperature", value)
    if not math.isfinite(value) or not 0 <= value <= TEMPERATURE_MAX:
        raise _bad("temperature", value)
    return float(value)


def check_max_tokens(value):
    if value is None:
        return None
    if not _whole(value) or not 1 <= value <= MAX_TOKENS_MAX:
        raise _bad("max_tokens", value)
    return value


def check_seed(value):
    if value is None:
        return None
    if not _whole(value) or not -1 <= value <= SEED_MAX:
        raise _bad("seed", value)
    return value


def generation(temperature=None, max_tokens=None, seed=None) -> dict:
    """The three parameters checked: ``{"temperature", "max_tokens", "seed"}``; a seed of -1
    becomes a fresh random one (as ``c.TinyAI.seed = -1`` does)."""
    checked_seed = check_seed(seed)
    return {
        "temperature": check_temperature(temperature),
        "max_tokens": check_max_tokens(max_tokens),
        "seed": random.randrange(2**31) if checked_seed == -1 else checked_seed,
    }


#: the numeric settings a client sends with a request (c.TinyAI.*): (lowest, highest or None)
SETTING_RANGES = {"n_ctx": (256, None), "threads": (0, 1024), "memory_headroom_mb": (0, None)}


def check_settings(values) -> dict:
    """The settings a client sends with a request, their numbers checked (their types are
    checked again when applied, by the config's own traits)."""
    if not isinstance(values, dict):
        raise InvalidRequest("'settings' must be a JSON object of c.TinyAI settings.")
    for name, (low, high) in SETTING_RANGES.items():
        value = values.get(name)
        if value is not None and (not _whole(value) or value < low or (high is not None and value > high)):
            allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise InvalidRequest(f"the setting '{name}' must be a whole number {allowed}, not {value!r}.")
    return values


def field(data: dict, name: str, kind, default=None, required: bool = False):
    """``data[name]`` checked against ``kind`` (a type or tuple of types); missing or null
    is ``default``."""
    if name not in data or data[name] is None:
        if required:
            raise InvalidRequest(f"the request needs a {name!r} field.")
        return default
    value = data[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InvalidRequest(f"the field {name!r} must be a {names}, not {type(value).__name__}.")
    return value


@dataclass
class ChatArgs:
    """A chat request, checked: the prompt, the settings its client sent, and the rest as
    ``Client.chat`` takes it (:meth:`kwargs`)."""

    prompt: str
    conversation: str | None = None  # None: the caller's default
    model: str | None = None
    system: str | None = None
    context: list = _field(default_factory=list)  # [ContextPiece]
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    settings: dict = _field(default_factory=dict)

    def kwargs(self) -> dict:
        """The keyword arguments of ``Client.chat``, but the prompt."""
        return {"conversation": self.conversation, "model": self.model, "system": self.system,
                "context": list(self.context), "temperature": self.temperature, "max_tokens": self.max_tokens,
                "seed": self.seed}


def _context(data: dict) -> list[ContextPiece]:
    pieces = field(data, "context", list, [])
    if not all(isinstance(p, dict) and isinstance(p.get("label"), str) and isinstance(p.get("text"), str) for p in pieces):
        raise InvalidRequest("'context' must be a list of {\"label\": string, \"text\": string}.")
    return [ContextPiece(p["label"], p["text"]) for p in pieces]


def chat_request(data: dict, n_ctx: int | None = None) -> ChatArgs:
    """The chat request in the JSON object ``data`` checked — ``prompt``, ``conversation``,
    ``model``, ``system``, ``context``, ``temperature``, ``max_tokens``, ``seed``,
    ``settings`` — or :class:`InvalidRequest` naming the field (:class:`EmptyPrompt` for a
    blank prompt). A prompt far beyond an ``n_ctx``-token window (the request's own
    ``settings.n_ctx`` when it sends one) is refused too, with :class:`PromptTooLong`."""
    prompt = field(data, "prompt", str, required=True)
    if not prompt.strip():
        raise EmptyPrompt("the prompt is empty: write a question or an instruction.")
    settings = check_settings(data.get("settings") or {})
    args = ChatArgs(
        prompt=prompt,
        conversation=field(data, "conversation", str) or None,
        model=field(data, "model", str) or None,
        system=field(data, "system", str),
        context=_context(data),
        settings=settings,
        **generation(data.get("temperature"), data.get("max_tokens"), data.get("seed")),
    )
    limit = settings.get("n_ctx") or n_ctx
    if limit:
        check_prompt_size(prompt, [p.text for p in args.context] + [args.system or ""], limit)
    return args


def option(check, convert):
    """An argparse ``type=``: ``convert`` the text, then ``check`` it (same messages)."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number.") from None
        try:
            return check(value)
        except InvalidRequest as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


temperature_option = option(check_temperature, float)
max_tokens_option = option(check_max_tokens, int)
seed_option = option(check_seed, int)
