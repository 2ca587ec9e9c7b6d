"""Getting a model: ``pull`` a GGUF from the Hugging Face Hub, ``removal`` to delete one.

    from jupyter_tinyai.models.pull import pull
    spec = pull("qwen2.5-coder-1.5b", progress=print)   # -> ModelSpec, listed from now on

Nothing is downloaded unless ``pull`` is called. It checks, before downloading, that the
model fits this machine (``force`` skips that) and that the disk has room, then fetches
the file into the Hugging Face cache (resuming a stopped pull), verifies its SHA-256 and
returns the model as ``jupyter tinyai models`` lists it. Usable from any thread; pass a
``threading.Event`` as ``cancel`` to stop it (the partial file is kept for a resume).
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field

from ..errors import InsufficientMemory, ModelNotFound, NotEnoughDisk
from . import catalog, download, hub
from .spec import ModelSpec, human_size

#: kept free on the cache's disk beyond the file itself
DISK_MARGIN_BYTES = 64 * 1024 * 1024


def free_disk_bytes(path: str) -> int:
    """Free bytes on the disk holding ``path`` (or its nearest existing parent)."""
    while path and not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return shutil.disk_usage(path or ".").free


def _kv_per_token(plan: hub.PullPlan) -> int:
    return plan.entry.kv_bytes_per_token() if plan.entry is not None else 0


def choose_file(plan: hub.PullPlan, settings, budget=None, force: bool = False):
    """(file, fit): the first candidate that is not too large for this machine; with none,
    the first, refused with InsufficientMemory unless ``force``."""
    n_ctx = catalog.context_for(plan.entry.context if plan.entry else 0, settings.n_ctx)
    fits = [(f, catalog.fit(f.size, _kv_per_token(plan), n_ctx, budget, settings.memory_headroom_mb))
            for f in plan.candidates]
    if not plan.explicit:
        for f, fit in fits:
            if fit.badge != "too large":
                return f, fit
    f, fit = fits[0]
    if fit.badge == "too large" and not force:
        raise InsufficientMemory(
            f"{f.filename} is too large for this machine: it {fit.describe()}, and a model can use at most "
            f"{human_size(fit.usable_bytes)} here. Pull a smaller quantization (--quant) or a smaller model "
            "(see `jupyter tinyai models --recommend`), lower c.TinyAI.n_ctx, or add --force to download it anyway."
        )
    return f, fit


def check_disk(f) -> None:
    paths = download.Paths(f)
    have = download.partial_bytes(f)
    need = f.size - have
    free = free_disk_bytes(paths.storage)
    if need > 0 and need + DISK_MARGIN_BYTES > free:
        already = f" ({human_size(have)} already downloaded)" if have else ""
        raise NotEnoughDisk(
            f"not enough disk space for {f.filename}: it needs {human_size(need)} more{already}, but only "
            f"{human_size(free)} is free in {paths.cache}. Free some space, or point HF_HUB_CACHE at a disk with room."
        )


@dataclass
class Pulled:
    """What :func:`pull_file` did, beside the model it returns."""

    spec: ModelSpec
    file: hub.RemoteFile
    fit: catalog.Fit
    fetched_bytes: int = 0
    resumed_from: int = 0
    already_present: bool = False
    notes: list = field(default_factory=list)  # e.g. "Q4_K_M is too large here: took Q3_K_M"


def pull_file(name: str, quant: str | None = None, *, force: bool = False, progress=None,
              cancel: threading.Event | None = None, settings=None, budget=None, fmt: str | None = None) -> Pulled:
    """:func:`pull` with the details (which file, bytes fetched, resumed from where)."""
    if settings is None:
        from ..config import load_settings

        settings = load_settings()
    plan = hub.plan(name, quant, fmt)
    if plan.is_mlx:
        return _pull_folder(plan, settings, budget, force, progress, cancel)
    f, fit = choose_file(plan, settings, budget, force)
    notes = []
    if f is not plan.candidates[0]:
        notes.append(f"{plan.candidates[0].quant or plan.candidates[0].filename} would not fit this machine: "
                     f"pulling {f.quant or f.filename} instead")
    check_disk(f)
    fetched = download.fetch(f, progress=progress, cancel=cancel)
    spec = _describe(fetched.path, settings)
    spec.extra["pull"] = {
        "repo": f.repo_id, "file": f.filename, "commit": f.commit, "sha256": f.sha256,
        "fetched_bytes": fetched.fetched_bytes, "resumed_from": fetched.resumed_from,
        "catalog": plan.entry.name if plan.entry else "",
    }
    return Pulled(spec, f, fit, fetched.fetched_bytes, fetched.resumed_from, fetched.already_present, notes)


def pull(name: str, quant: str | None = None, *, force: bool = False, progress=None,
         cancel: threading.Event | None = None, settings=None, fmt: str | None = None) -> ModelSpec:
    """Download a model (catalog name, ``org/repo`` or ``org/repo/file.gguf``) into the
    Hugging Face cache; the model, as ``list_models`` will list it."""
    return pull_file(name, quant, force=force, progress=progress, cancel=cancel, settings=settings, fmt=fmt).spec


class _FolderProgress:
    """One progress for the files of a folder: bytes of all of them, done when the last is."""

    def __init__(self, files, progress, name: str):
        self.sizes = [f.size for f in files]
        self.progress, self.name, self.index = progress, name, 0

    def __call__(self, p: download.Progress) -> None:
        before = sum(self.sizes[: self.index])
        last = self.index == len(self.sizes) - 1
        phase = p.phase if (p.phase != "done" or last) else "downloading"
        self.progress(download.Progress(self.name, phase, before + p.done, sum(self.sizes), p.speed,
                                        p.resumed_from + before if p.resumed_from else 0, p.partial_path))


def _pull_folder(plan: hub.PullPlan, settings, budget, force, progress, cancel) -> Pulled:
    """An MLX model: every file of the repo's folder, each resumable and verified."""
    weights = sum(f.size for f in plan.folder if f.filename.endswith(".safetensors"))
    n_ctx = catalog.context_for(plan.entry.context if plan.entry else 0, settings.n_ctx)
    fit = catalog.fit(weights, _kv_per_token(plan), n_ctx, budget, settings.memory_headroom_mb)
    name = plan.repo_id.split("/")[-1]
    if fit.badge == "too large" and not force:
        raise InsufficientMemory(
            f"{plan.repo_id} is too large for this machine: it {fit.describe()}, and a model can use at most "
            f"{human_size(fit.usable_bytes)} here. Pull a smaller model (see `jupyter tinyai models --recommend`), "
            "lower c.TinyAI.n_ctx, or add --force to download it anyway."
        )
    missing = [(f, f.size - download.partial_bytes(f)) for f in plan.folder]
    need = sum(n for _, n in missing)
    free = free_disk_bytes(download.Paths(plan.folder[0]).storage)
    if need > 0 and need + DISK_MARGIN_BYTES > free:
        raise NotEnoughDisk(
            f"not enough disk space for {plan.repo_id}: it needs {human_size(need)} more, but only "
            f"{human_size(free)} is free in {download.Paths(plan.folder[0]).cache}. Free some space, or point "
            "HF_HUB_CACHE at a disk with room."
        )
    view = _FolderProgress(plan.folder, progress, name) if progress is not None else None
    fetched, resumed, present, folder = 0, 0, True, ""
    for index, f in enumerate(plan.folder):
        if view is not None:
            view.index = index
        result = download.fetch(f, progress=view, cancel=cancel)
        fetched += result.fetched_bytes
        resumed += result.resumed_from
        present = present and result.already_present
        folder = os.path.dirname(result.path) if "/" not in f.filename else folder
    from .describe import describe_mlx

    spec = describe_mlx(folder, "hf-cache", name)
    spec.extra["pull"] = {"repo": plan.repo_id, "file": "", "commit": plan.commit, "sha256": "",
                          "fetched_bytes": fetched, "resumed_from": resumed,
                          "catalog": plan.entry.name if plan.entry else ""}
    whole = hub.RemoteFile(plan.repo_id, "", plan.commit, sum(f.size for f in plan.folder), endpoint=plan.folder[0].endpoint)
    return Pulled(spec, whole, fit, fetched, resumed, present)


def _describe(path: str, settings) -> ModelSpec:
    from .describe import describe_path

    return describe_path(path, "hf-cache", settings.backend)


# --- rm ----------------------------------------------------------------------------------------


@dataclass
class Removal:
    """What ``jupyter tinyai rm NAME`` would delete, before it does."""

    what: str  # "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF" or "…/file.gguf"
    files: list  # paths of the snapshot entries
    freed_bytes: int
    strategy: object  # huggingface_hub DeleteCacheStrategy

    def execute(self) -> None:
        self.strategy.execute()


def removal(name: str, settings=None) -> Removal:
    """The pulled files NAME means (catalog name, repo, repo/file.gguf, or a model id or path
    from `jupyter tinyai models` that lives in the Hugging Face cache), and the space freed."""
    from huggingface_hub import scan_cache_dir

    from .sources import hf_cache_dir

    cache = hf_cache_dir()
    info = scan_cache_dir(cache) if os.path.isdir(cache) else None
    repos = [r for r in (info.repos if info else ()) if r.repo_type == "model"]
    target = _target(name, settings)
    if isinstance(target, str):  # a whole repo
        matches = [r for r in repos if r.repo_id.lower() == target.lower()]
        if matches:
            repo = matches[0]
            strategy = info.delete_revisions(*[rev.commit_hash for rev in repo.revisions])
            files = sorted(str(f.file_path) for rev in repo.revisions for f in rev.files)
            return Removal(repo.repo_id, files, strategy.expected_freed_size, strategy)
        pulled = sorted(r.repo_id for r in repos)
        raise ModelNotFound(
            f"{target} is not in the Hugging Face cache ({cache}), so there is nothing to remove."
            + (f" Pulled: {', '.join(pulled[:8])}." if pulled else "")
        )
    repo_id, filename, path = target
    chosen = [
        f
        for r in repos
        if repo_id is None or r.repo_id.lower() == repo_id.lower()
        for rev in r.revisions
        for f in rev.files
        if (path and os.path.realpath(f.file_path) == os.path.realpath(path))
        or (filename and f.file_name == os.path.basename(filename) and str(f.file_path).endswith(filename))
    ]
    if not chosen:
        raise ModelNotFound(f"{name} is not a pulled model in the Hugging Face cache ({cache}); "
                            "`jupyter tinyai models` lists the models found there as hf-cache.")
    strategy = info.delete_files(*chosen)
    what = f"{repo_id}/{filename}" if repo_id and filename else str(chosen[0].file_path)
    return Removal(what, sorted({str(f.file_path) for f in chosen}), strategy.expected_freed_size, strategy)


def _target(name: str, settings):
    """A repo id (str), or (repo id or None, file name or None, path or None) for one file."""
    text = name.strip()
    entry = catalog.get(text)
    if entry is not None:
        return entry.repo
    parts = [p for p in text.split("/") if p]
    if len(parts) == 2 and ":" not in text and not os.path.exists(os.path.expanduser(text)):
        return text
    if len(parts) >= 3 and text.lower().endswith(".gguf") and not os.path.exists(os.path.expanduser(text)):
        return "/".join(parts[:2]), "/".join(parts[2:]), None
    if settings is None:
        from ..config import load_settings

        settings = load_settings()
    from . import resolve

    spec = resolve(text, settings)  # a model id, a short part of one, or a path
    if spec.source != "hf-cache" and not os.path.realpath(spec.path).startswith(os.path.realpath(_cache()) + os.sep):
        raise ModelNotFound(f"{spec.id} ({spec.source}: {spec.path}) was not pulled into the Hugging Face cache; "
                            "rm deletes only pulled models. Delete the file yourself if you mean to.")
    return None, None, spec.path


def _cache() -> str:
    from .sources import hf_cache_dir

    return hf_cache_dir()
