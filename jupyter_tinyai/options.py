"""The generation options of one answer, as ``jupyter tinyai ask`` and the magics
(``%%ask``, ``%explain``) take them: one table, from which both build their parsers.

    add_arguments(parser, "model", "temperature")       # argparse (the CLI)
    @magic_options("model", "temperature")              # IPython's @argument (the magics)

Each value is checked by :mod:`jupyter_tinyai.validation`, with its messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .validation import max_tokens_option, seed_option, temperature_option


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    type: Callable[[str], object] | None = None

    def kwargs(self) -> dict:
        return {"help": self.help} if self.type is None else {"type": self.type, "help": self.help}


#: name (the parsed attribute) -> option
OPTIONS = {
    "model": Option(("-m", "--model"), "model for this answer: an id from the models list, a short part of one, "
                    "or a path (default: the configured model, else the bundled one)"),
    "system": Option(("-s", "--system"), "system prompt for this answer (default: a short one tuned for small models)"),
    "temperature": Option(("-t", "--temperature"), "sampling temperature, 0 to 2 (default 0: greedy, reproducible)",
                          temperature_option),
    "max_tokens": Option(("--max-tokens",), "longest answer, in tokens (1 to 1,000,000)", max_tokens_option),
    "seed": Option(("--seed",), "random seed when the temperature is above 0 (0 to 4294967295; -1: a new one each time)",
                   seed_option),
}


def add_arguments(parser, *names: str) -> None:
    """Add the options ``names`` (all when none) to an argparse parser."""
    for name in names or OPTIONS:
        option = OPTIONS[name]
        parser.add_argument(*option.flags, **option.kwargs())


def magic_options(*names: str):
    """A decorator adding the options ``names`` (all when none) to a magic, with IPython's
    ``@argument`` (under ``@magic_arguments()``), in the table's order."""
    from IPython.core.magic_arguments import argument

    def decorate(func):
        for name in reversed(names or tuple(OPTIONS)):
            option = OPTIONS[name]
            func = argument(*option.flags, **option.kwargs())(func)
        return func

    return decorate
