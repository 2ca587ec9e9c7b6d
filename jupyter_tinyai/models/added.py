"""Models the user registered: ``jupyter tinyai models --add PATH`` (and ``%tinyai use PATH``).

For a model file or folder the user just produced (a fine-tuned GGUF, an MLX folder written by
``mlx_lm.fuse``) outside every scanned directory. The paths are kept in
``<jupyter data dir>/tinyai/added_models.json`` and listed as the ``added`` source.

    spec = add_model("~/runs/finetune-3/model.gguf", settings)

A damaged file (not JSON, not UTF-8, not ``{"models": [...]}``, a folder) is never overwritten: it is
renamed aside to ``added_models.json.damaged-<UTC time>``, with one line saying so (a warning
of the listing, or of ``--add``/``--remove``), and the next ``--add`` starts a new list. A file
that cannot be read (its permissions) is left as it is, and not written over either.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator

from ..damaged import move_aside
from ..errors import ModelFileError
from .spec import ModelSpec

FILE_NAME = "added_models.json"

log = logging.getLogger(__name__)


def added_file() -> str:
    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "tinyai", FILE_NAME)


def load_added(notices: list[str] | None = None) -> list[dict]:
    """The registered entries ({"path": ...}), oldest first; [] when none. A damaged file is
    set aside, with one line about it appended to ``notices``; a file that cannot be read is
    a ModelFileError (it must not be replaced by a new list)."""
    path = added_file()
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return []
    except IsADirectoryError:
        reason = "it is a folder, not a file"
    except UnicodeDecodeError:
        reason = "it is not UTF-8 text"
    except ValueError as exc:
        reason = f"it is not valid JSON ({exc})"
    except OSError as exc:
        raise ModelFileError(f"the list of added models {path} cannot be read ({exc.strerror or exc}); "
                             "it is left as it is: check its permissions.") from None
    else:
        if isinstance(data, dict) and isinstance(data.get("models", []), list):
            return [e for e in data.get("models", []) if isinstance(e, dict) and isinstance(e.get("path"), str)]
        reason = "it is not {\"models\": [...]}"
    notice = _set_aside(path, reason)
    if notices is not None:
        notices.append(notice)
    return []


def _set_aside(path: str, reason: str) -> str:
    """Rename a damaged list out of the way (never over another file); the one-line notice."""
    try:
        target = move_aside(path)
    except OSError as exc:
        raise ModelFileError(f"the list of added models {path} is damaged ({reason}) and could not be set aside "
                             f"({exc.strerror or exc}): move it away by hand.") from None
    log.warning("TinyAI's list of added models %s is damaged (%s): set aside as %s", path, reason, target)
    return (f"the list of added models was damaged ({reason}) and is set aside as {target}; "
            "add the models again with `jupyter tinyai models --add PATH`.")


def _save(entries: list[dict]) -> None:
    path = added_file()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".added-", dir=os.path.dirname(path))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"models": entries}, handle, indent=2)
    os.replace(tmp, path)  # atomic: a crash never leaves half a file


def _refuse_adapter_folder(path: str) -> None:
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "adapter_config.json")) and not os.path.isfile(
        os.path.join(path, "config.json")
    ):
        raise ModelFileError(
            f"{path} is an mlx-lm LoRA adapter folder, not a model: use it with --adapter "
            "(c.TinyAI.adapter) on its base model, or fuse it first with `mlx_lm.fuse`."
        )


def add_model(path: str, settings, notices: list[str] | None = None) -> ModelSpec:
    """Check that ``path`` is a model we can run and remember it; return its spec.

    Raises ModelNotFound / ModelFileError with what is wrong (not there, an adapter, an
    unsupported format). Adding the same file twice keeps one entry. A damaged list is set
    aside first (one line in ``notices``).
    """
    from .describe import describe_path

    path = os.path.abspath(os.path.expanduser(path))
    _refuse_adapter_folder(path)
    spec = describe_path(path, "added", settings.backend)
    real = os.path.realpath(spec.path)
    entries = [e for e in load_added(notices) if os.path.realpath(e["path"]) != real]
    entries.append({"path": spec.path})
    _save(entries)
    return spec


def remove_model(path: str, notices: list[str] | None = None) -> bool:
    """Forget ``path``; False when it was not registered (or the list was damaged: set aside,
    one line in ``notices``)."""
    real = os.path.realpath(os.path.abspath(os.path.expanduser(path)))
    entries = load_added(notices)
    kept = [e for e in entries if os.path.realpath(e["path"]) != real]
    if len(kept) == len(entries):
        return False
    _save(kept)
    return True


def added(settings) -> Iterator[tuple]:
    """The ``added`` model source: registered paths that still exist. A damaged list is set
    aside and its notice raised (the listing shows it as one warning line, once)."""
    notices: list[str] = []
    entries = load_added(notices)
    if notices:
        raise ModelFileError(notices[0])
    for entry in entries:
        if os.path.exists(entry["path"]):
            yield entry["path"], "added", None
