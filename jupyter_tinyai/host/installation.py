"""Which installation a host belongs to: clients use only a host of their own (the same
version, Python environment and package folder, recorded in its runtime file)."""

from __future__ import annotations

import os
import sys

from .._version import __version__


def installation() -> dict:
    """What a host records so clients of another installation can tell it is not theirs."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {"version": __version__, "prefix": sys.prefix, "package": os.path.realpath(package)}


def same_installation(info: dict) -> bool:
    return all(info.get(key) == value for key, value in installation().items())


def describe(info: dict) -> str:
    return f"jupyter_tinyai {info.get('version', 'of an unknown version')} in {info.get('package') or info.get('python', '?')}"
