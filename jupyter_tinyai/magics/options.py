"""Options of the magics: parsing a line without shell-splitting the prompt, and the
:class:`Job` a magic hands to the streaming code. The generation options themselves are
the CLI's (:mod:`jupyter_tinyai.options`)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from ..errors import TinyAIError
from .display import MessageError


@dataclass
class Job:
    """One answer to produce: the prompt and everything sent with it."""

    prompt: str
    kwargs: dict
    fmt: str = "markdown"
    params: dict = field(default_factory=dict)
    throwaway: bool = False  # a one-off conversation, forgotten after the answer
    title: str | None = None  # an explanation's header ("Explanation of In[3]"); its answer never ends mid-sentence


def _parse(magic, line: str):
    """Options at the start of ``line`` (argparse), and the rest of the line verbatim.

    The prompt is never shell-split, so apostrophes and quotes in it are fine; write
    ``--`` before a prompt that starts with a dash.
    """
    parser = magic.parser
    tokens: list[str] = []
    rest = line.lstrip()
    while rest.startswith("-"):
        match = re.match(r"(\S+)\s*", rest)
        option, rest = match.group(1), rest[match.end():]
        if option == "--":
            break
        name = option.split("=", 1)[0]
        action = parser._option_string_actions.get(name)
        if action is None:
            raise MessageError(f"unknown option {name}; see {parser.prog}? for the options.", "usage")
        tokens.append(option)
        if action.nargs != 0 and "=" not in option:
            match = re.match(r"(\"[^\"]*\"|'[^']*'|\S+)\s*", rest)
            if not match:
                raise MessageError(f"option {name} needs a value.", "usage")
            tokens.append(match.group(1)[1:-1] if match.group(1)[:1] in "'\"" else match.group(1))
            rest = rest[match.end():]
    try:
        args = parser.parse_args(tokens)
    except Exception as error:  # argparse's usage errors
        raise MessageError(str(error).strip() or "bad options", "usage") from None
    return args, rest


def _user_errors(method):
    """TinyAIErrors raised while building a job (an unknown {name}) show as one line."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except TinyAIError as error:
            raise MessageError.of(error) from None

    return wrapper
