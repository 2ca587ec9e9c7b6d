"""The allowed values of a request's generation parameters, one rule for every way in: the
host's ``/tinyai/chat`` and OpenAI-compatible ``/v1/chat/completions``, the sidebar's
WebSocket, the magics' and the CLI's options, and ``Engine.chat``.

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

from .errors import InvalidRequest

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
