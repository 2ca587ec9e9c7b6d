"""The models of configured remote inference servers (``c.TinyAI.remotes``).

Each remote's ``/v1/models`` becomes ModelSpecs with ids ``<remote>:<model>``. No remote is
contacted unless it is configured; a remote that is down gives one warning entry (a spec
whose ``warning`` says why, and no model) instead of failing the whole listing.
"""

from __future__ import annotations

from ..errors import AmbiguousModel, ModelNotFound, TinyAIError
from ..remotes.config import LIST_TIMEOUT, Remote, remote_for
from ..remotes.endpoints import entry_context, entry_id, list_server_models
from .spec import ModelSpec


def _spec(remote: Remote, entry: dict) -> ModelSpec:
    model = entry_id(entry)
    meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
    size = meta.get("size") if isinstance(meta.get("size"), int) else 0
    return ModelSpec(
        id=f"{remote.name}:{model}",
        name=model,
        backend="remote",
        format="remote",
        path=remote.url,
        size_bytes=size,
        context_length=remote.n_ctx or entry_context(entry),
        source=remote.name,
        extra=remote.to_extra(),
    )


def warning_spec(name: str, url: str, message: str) -> ModelSpec:
    """A listing entry that is not a model: the one-line reason a remote is missing."""
    return ModelSpec(id=f"{name}:", name="", backend="remote", format="remote", path=url,
                     source=name, extra={"remote": name, "warning": message})


def list_remote_models(settings) -> list[ModelSpec]:
    """Every configured remote's models, in configuration order (a LISTERS entry)."""
    result = []
    for name, entry in (getattr(settings, "remotes", None) or {}).items():
        try:
            remote = Remote.from_config(name, entry)
            timeout = min(remote.timeout, LIST_TIMEOUT)
            result.extend(_spec(remote, e) for e in list_server_models(remote, timeout))
        except TinyAIError as exc:
            url = entry.get("url", "") if isinstance(entry, dict) else str(entry)
            result.append(warning_spec(name, url, f"remote {name!r} is not listed: {exc}"))
    return result


def resolve_remote(name: str, settings) -> ModelSpec:
    """``lab:model`` -> the spec of that model on the configured remote ``lab`` (contacting
    only that remote); an exact id, else a short unambiguous part of one."""
    remote_name, _, wanted = name.partition(":")
    remote = remote_for(remote_name, settings)
    wanted = wanted.strip()
    specs = [_spec(remote, e) for e in list_server_models(remote)]
    served = ", ".join(s.name for s in specs[:12]) or "nothing"
    if not wanted:
        raise ModelNotFound(f"name a model of remote {remote_name!r}, e.g. {remote_name}:<model>; it serves: {served}.")
    for match in (lambda s: s.name == wanted, lambda s: s.name.lower() == wanted.lower()):
        exact = [s for s in specs if match(s)]
        if len(exact) == 1:
            return exact[0]
    partial = [s for s in specs if wanted.lower() in s.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise AmbiguousModel(f"{name!r} matches several models of remote {remote_name!r}: "
                             f"{', '.join(s.id for s in partial[:8])}. Use a longer name.")
    raise ModelNotFound(f"remote {remote_name!r} ({remote.url}) has no model {wanted!r}; it serves: {served}. "
                        "Load or pull the model on the server, or pick one of those.")
