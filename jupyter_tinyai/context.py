"""Notebook context for prompts: ``{name}`` references, summaries, In/Out/Err history.

Pure functions with no Jupyter import: the magics pass in the user namespace, ``In``,
``Out`` and the errors they recorded, and get back the prompt text and the
:class:`~jupyter_tinyai.prompts.ContextPiece` list to send with it.

    text, pieces = interpolate("Why is {df} slow?", namespace, History(In, Out, errors))

``{{`` and ``}}`` are literal braces. Braces around anything that is not a name
(``{}``, ``{"a": 1}``) are left as they are.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ContextError
from .prompts import shorten
from .types import ContextPiece

#: a value whose one-line summary is at most this long goes into the prompt text itself
INLINE_CHARS = 80
HEAD_ROWS = 5
SEQUENCE_ITEMS = 10

_TOKEN = re.compile(
    r"\{\{|\}\}|\{(?P<ref>(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"(?:\[(?P<index>-?\d+)\])?)\}"
)


@dataclass
class ErrorRecord:
    """An exception raised by a cell: the cell's code and its traceback as plain text."""

    execution_count: int
    code: str
    traceback: str
    summary: str  # "ZeroDivisionError: division by zero"


@dataclass
class History:
    """IPython's ``In`` (list), ``Out`` (dict) and the errors recorded by execution count."""

    inputs: list = field(default_factory=list)
    outputs: Mapping = field(default_factory=dict)
    errors: Mapping[int, ErrorRecord] = field(default_factory=dict)

    def cell(self, n: int) -> str:
        # In[0] is '' in IPython; negative indexes count back from the end like a list
        try:
            code = self.inputs[n]
        except (IndexError, TypeError):
            code = None
        if n == 0 or not code:
            raise ContextError(f"In[{n}] does not exist: there are cells In[1] to In[{max(len(self.inputs) - 1, 0)}].")
        return code

    def output(self, n: int):
        if n < 0:
            keys = sorted(self.outputs)
            if len(keys) < -n:
                raise ContextError(f"Out[{n}] does not exist: {len(keys)} cell(s) have an output.")
            n = keys[n]
        if n not in self.outputs:
            have = ", ".join(str(k) for k in sorted(self.outputs)[-5:]) or "none"
            raise ContextError(f"Out[{n}] does not exist (cells with an output: {have}).")
        return self.outputs[n]

    def error(self, n: int | None = None) -> ErrorRecord:
        if not self.errors:
            raise ContextError("no cell has raised an error in this kernel yet, so there is no {Err}.")
        if n is None or n == -1:
            return self.errors[max(self.errors)]
        if n < 0:
            keys = sorted(self.errors)
            if len(keys) < -n:
                raise ContextError(f"Err[{n}] does not exist: {len(keys)} cell(s) raised an error.")
            return self.errors[keys[n]]
        if n not in self.errors:
            have = ", ".join(str(k) for k in sorted(self.errors)[-5:])
            raise ContextError(f"cell {n} did not raise an error (cells that did: {have}).")
        return self.errors[n]


# -- summaries -------------------------------------------------------------------------


def _type_name(obj) -> str:
    cls = type(obj)
    module = cls.__module__.split(".")[0]
    return cls.__name__ if module == "builtins" else f"{module}.{cls.__name__}"


def _is(obj, module: str, name: str) -> bool:
    return any(c.__module__.split(".")[0] == module and c.__name__ == name for c in type(obj).__mro__)


def _dataframe(df) -> str:
    rows, cols = df.shape
    dtypes = "\n".join(f"  {col}: {dtype}" for col, dtype in list(df.dtypes.items())[:50])
    more = f"\n  … ({cols - 50} more columns)" if cols > 50 else ""
    head = df.head(HEAD_ROWS).to_string(max_cols=20, max_colwidth=40)
    return f"shape: {rows} rows × {cols} columns\ncolumns and dtypes:\n{dtypes}{more}\nfirst {min(rows, HEAD_ROWS)} rows:\n{head}"


def _series(s) -> str:
    head = s.head(HEAD_ROWS).to_string(max_rows=HEAD_ROWS)
    return f"name: {s.name}, length: {len(s)}, dtype: {s.dtype}\nfirst values:\n{head}"


def _ndarray(a) -> str:
    lines = [f"shape: {a.shape}, dtype: {a.dtype}"]
    kind = getattr(a.dtype, "kind", "")
    if a.size and kind in "biuf":
        try:
            import numpy as np  # only reached when the object is already an ndarray

            lines.append(
                f"min: {np.nanmin(a):.6g}, max: {np.nanmax(a):.6g}, mean: {np.nanmean(a):.6g}, std: {np.nanstd(a):.6g}"
            )
            nans = int(np.isnan(a).sum()) if kind == "f" else 0
            if nans:
                lines.append(f"NaN values: {nans}")
        except Exception:  # pragma: no cover - exotic arrays
            pass
    flat = a.ravel()[:SEQUENCE_ITEMS].tolist() if a.size else []
    lines.append(f"first values: {flat}" + (" …" if a.size > SEQUENCE_ITEMS else ""))
    return "\n".join(lines)


def _sequence(obj) -> str:
    items = list(obj.items()) if isinstance(obj, dict) else list(obj)
    head = items[:SEQUENCE_ITEMS]
    if isinstance(obj, dict):
        body = ", ".join(f"{k!r}: {_short_repr(v)}" for k, v in head)
    else:
        body = ", ".join(_short_repr(v) for v in head)
    more = f", … ({len(items) - SEQUENCE_ITEMS} more)" if len(items) > SEQUENCE_ITEMS else ""
    return f"{_type_name(obj)} of {len(items)} items: {body}{more}"


def _short_repr(value, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{_type_name(value)}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _source(obj) -> str:
    try:
        return inspect.getsource(obj).rstrip()
    except (OSError, TypeError):
        pass
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
    try:
        signature = f"{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        signature = name
    doc = inspect.getdoc(obj) or "(no docstring)"
    return f"{signature}\n(source not available)\n{doc}"


def describe(obj) -> tuple[str, str]:
    """(kind, text): a summary of ``obj`` small enough for a prompt."""
    if _is(obj, "pandas", "DataFrame"):
        return "pandas DataFrame", _dataframe(obj)
    if _is(obj, "pandas", "Series"):
        return "pandas Series", _series(obj)
    if _is(obj, "numpy", "ndarray"):
        return "NumPy array", _ndarray(obj)
    if inspect.isclass(obj):
        return "class", _source(obj)
    if inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isbuiltin(obj):
        return "function", _source(obj)
    if inspect.ismodule(obj):
        doc = (inspect.getdoc(obj) or "").strip()
        names = [n for n in dir(obj) if not n.startswith("_")]
        return "module", f"module {obj.__name__}\n{doc[:1000]}\npublic names: {', '.join(names[:40])}"
    if isinstance(obj, str):
        return "str", obj
    if isinstance(obj, (list, tuple, set, frozenset, dict)) and len(obj) > SEQUENCE_ITEMS:
        return _type_name(obj), _sequence(obj)
    return _type_name(obj), _short_repr(obj, limit=100_000)


def summarize(name: str, obj, max_chars: int = 4000) -> ContextPiece:
    """A context piece for variable ``name``, at most about ``max_chars`` long."""
    kind, text = describe(obj)
    return ContextPiece(f"{name} ({kind})", shorten(text, max_chars))


def _inline(obj) -> str | None:
    """The value itself when it is small and simple enough to sit in the sentence."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, float, complex)):
        return repr(obj)
    if isinstance(obj, str) and len(obj) <= INLINE_CHARS and "\n" not in obj:
        return obj
    return None


# -- references ------------------------------------------------------------------------


def _lookup(dotted: str, namespace: Mapping[str, Any]):
    head, *rest = dotted.split(".")
    if head not in namespace:
        raise ContextError(
            f"{{{dotted}}}: there is no variable '{head}' in the kernel; define it first,"
            " or write {{ and }} for literal braces."
        )
    obj = namespace[head]
    for i, attr in enumerate(rest):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            where = ".".join([head, *rest[:i]])
            raise ContextError(f"{{{dotted}}}: '{where}' has no attribute '{attr}'.") from None
    return obj


def _history_piece(name: str, index: int | None, history: History, max_chars: int):
    if name == "In":
        if index is None:
            raise ContextError("write {In[N]} with a cell number, e.g. {In[3]}.")
        return f"In[{index}]", ContextPiece(f"In[{index}] (code of cell {index})", shorten(history.cell(index), max_chars))
    if name == "Out":
        if index is None:
            raise ContextError("write {Out[N]} with a cell number, e.g. {Out[3]}.")
        kind, text = describe(history.output(index))
        return f"Out[{index}]", ContextPiece(f"Out[{index}] ({kind})", shorten(text, max_chars))
    record = history.error(index)
    return f"the error in cell {record.execution_count}", error_piece(record, max_chars)


def error_piece(record: ErrorRecord, max_chars: int = 4000) -> ContextPiece:
    text = f"code of cell {record.execution_count}:\n{record.code.rstrip()}\n\ntraceback:\n{record.traceback.rstrip()}"
    return ContextPiece(f"error in cell {record.execution_count} ({record.summary})", shorten(text, max_chars))


def interpolate(
    template: str,
    namespace: Mapping[str, Any],
    history: History | None = None,
    max_chars: int = 4000,
) -> tuple[str, list[ContextPiece]]:
    """Resolve ``{name}``, ``{a.b}``, ``{In[3]}``, ``{Out[3]}``, ``{Err}``, ``{Err[3]}``.

    Small scalars and short strings are written into the text; anything else is named
    in the text and sent as a context piece (each piece once, however often it is named).
    Raises :class:`ContextError` (one line) for a name that does not exist.
    """
    history = history or History()
    pieces: dict[str, ContextPiece] = {}

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name, index = match.group("name"), match.group("index")
        index = int(index) if index is not None else None
        if name == "Err" or (name in ("In", "Out") and index is not None):
            text, piece = _history_piece(name, index, history, max_chars)
            pieces.setdefault(piece.label, piece)
            return text
        obj = _lookup(name, namespace)
        if index is not None:
            try:
                obj = obj[index]
            except Exception as err:
                raise ContextError(f"{{{match.group('ref')}}}: {type(err).__name__}: {err}") from None
        label = match.group("ref")
        small = _inline(obj)
        if small is not None:
            return small
        piece = summarize(label, obj, max_chars)
        pieces.setdefault(piece.label, piece)
        return f"`{label}`"

    text = _TOKEN.sub(replace, template)
    return text, list(pieces.values())
