"""One table of generation options builds the CLI's and the magics' parsers."""

import argparse

import pytest

from jupyter_tinyai.cli import parser
from jupyter_tinyai.magics import TinyAIMagics
from jupyter_tinyai.options import OPTIONS


def _subparser(name: str) -> argparse.ArgumentParser:
    top = parser()
    (sub,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices[name]


def _options(p: argparse.ArgumentParser, names) -> dict:
    return {a.dest: (tuple(a.option_strings), a.type, a.help) for a in p._actions if a.dest in names}


@pytest.mark.parametrize("magic, names", [
    (TinyAIMagics.ask, ("model", "system", "temperature", "max_tokens", "seed")),
    (TinyAIMagics.explain, ("model", "temperature", "max_tokens", "seed")),
])
def test_the_cli_and_the_magics_take_the_same_options(magic, names):
    cli = _options(_subparser("ask"), names)
    assert _options(magic.parser, names) == cli
    assert set(cli) == set(names)
    assert all(cli[name] == (OPTIONS[name].flags, OPTIONS[name].type, OPTIONS[name].help) for name in names)


def test_both_refuse_a_bad_value_with_the_same_message():
    messages = []
    for p in (_subparser("ask"), TinyAIMagics.ask.parser):
        p.exit_on_error = False
        with pytest.raises(argparse.ArgumentError) as error:
            p.parse_known_args(["--max-tokens", "0", "hi"])
        messages.append(str(error.value))
    assert messages[0] == messages[1] == "argument --max-tokens: 'max_tokens' must be a whole number from 1 to 1,000,000, not 0."
