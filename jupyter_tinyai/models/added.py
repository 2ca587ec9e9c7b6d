"""Models the user registered: ``jupyter tinyai models --add PATH`` (and ``%tinyai use PATH``).

For a model file or folder the user just produced (a fine-tuned GGUF, an MLX folder written by
``mlx_lm.fuse``) outside every scanned directory. The paths are kept in
``<jupyter data dir>/tinyai/added_models.json`` and listed as the ``added`` source.

    spec = add_model("~/runs/finetune-3/model.gguf", settings)
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator

from ..errors import ModelFileError
from .spec import ModelSpec

FILE_NAME = "added_models.json"


def added_file() -> str:
    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "tinyai", FILE_NAME)


def load_added() -> list[dict]:
    """The registered entries ({"path": ...}), oldest first; [] when none or unreadable."""
    try:
        with open(added_file(), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return []
    entries = data.get("models", []) if isinstance(data, dict) else []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]


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


def add_model(path: str, settings) -> ModelSpec:
    """Check that ``path`` is a model we can run and remember it; return its spec.

    Raises ModelNotFound / ModelFileError with what is wrong (not there, an adapter, an
    unsupported format). Adding the same file twice keeps one entry.
    """
    from .describe import describe_path

    path = os.path.abspath(os.path.expanduser(path))
    _refuse_adapter_folder(path)
    spec = describe_path(path, "added", settings.backend)
    real = os.path.realpath(spec.path)
    entries = [e for e in load_added() if os.path.realpath(e["path"]) != real]
    entries.append({"path": spec.path})
    _save(entries)
    return spec


def remove_model(path: str) -> bool:
    """Forget ``path``; False when it was not registered."""
    real = os.path.realpath(os.path.abspath(os.path.expanduser(path)))
    entries = load_added()
    kept = [e for e in entries if os.path.realpath(e["path"]) != real]
    if len(kept) == len(entries):
        return False
    _save(kept)
    return True


def added(settings) -> Iterator[tuple]:
    """The ``added`` model source: registered paths that still exist."""
    for entry in load_added():
        if os.path.exists(entry["path"]):
            yield entry["path"], "added", None
