"""One vocabulary of errors: every kind has a class in errors.py and a title, the
labextension shows the same titles, and every wire error is made by ``to_dict()``."""

from __future__ import annotations

import importlib
import pathlib
import pkgutil
import re

import pytest

import jupyter_tinyai
from jupyter_tinyai import errors

ROOT = pathlib.Path(jupyter_tinyai.__file__).parent
MODEL_TS = ROOT.parent / "labextension" / "src" / "model.ts"
#: modules that cannot be imported everywhere (MLX's native library, a Jupyter server)
OPTIONAL = ("jupyter_tinyai.backends.mlx", "jupyter_tinyai.labextension")


def _import_everything() -> None:
    for module in pkgutil.walk_packages([str(ROOT)], "jupyter_tinyai."):
        if not module.name.startswith(OPTIONAL):
            importlib.import_module(module.name)


def test_every_kind_is_defined_once_in_errors_py_and_has_a_title():
    _import_everything()  # subclasses defined anywhere in the package
    classes = errors.error_classes()
    assert set(classes) == set(errors.TITLES)
    for cls in classes.values():
        assert cls.__module__ == "jupyter_tinyai.errors", f"{cls.__name__} defines the kind {cls.kind!r} outside errors.py"
    for kind, title in errors.TITLES.items():
        assert title[0].isupper() and title.endswith(".") and "'" not in title, kind


@pytest.mark.parametrize("kind", sorted(errors.TITLES))
def test_every_kind_survives_the_wire(kind):
    cls = errors.error_classes()[kind]
    back = errors.from_dict(cls("what happened; what to do.").to_dict())
    assert type(back) is cls and str(back) == "what happened; what to do." and back.kind == kind


def test_an_unknown_kind_comes_back_as_the_base_class_with_the_default_title():
    back = errors.from_dict({"kind": "from-a-newer-host", "message": "m"})
    assert type(back) is errors.TinyAIError and errors.title("from-a-newer-host") == errors.TITLES["error"]


def _typescript_titles() -> dict:
    """kind -> title of labextension/src/model.ts's errorTitle; the default under "error"."""
    source = MODEL_TS.read_text(encoding="utf-8")
    body = re.search(r"export function errorTitle\(.*?\n}\n", source, re.S).group(0)
    titles, pending = {}, []
    for line in body.splitlines():
        line = line.strip()
        if case := re.fullmatch(r"case '([a-z_]+)':", line):
            pending.append(case.group(1))
        elif line == "default:":
            pending.append(None)
        elif ret := re.fullmatch(r"return trans\.__\('([^']*)'\);", line):
            for kind in pending:
                titles[kind] = ret.group(1)
            pending = []
    return titles


def test_the_labextension_shows_the_same_titles():
    titles = _typescript_titles()
    default = titles.pop(None)
    assert default == errors.TITLES["error"]
    assert titles == errors.TITLES


def test_no_module_builds_an_error_dict_by_hand():
    pattern = re.compile(r"""["']kind["']\s*:""")
    by_hand = [f"{path.relative_to(ROOT)}:{n}" for path in ROOT.rglob("*.py") if path.name != "errors.py"
               for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert by_hand == [], "wire errors are made by TinyAIError.to_dict()"
