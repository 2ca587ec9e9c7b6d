"""What a pull NAME means on the Hugging Face Hub: the repo, its commit, the GGUF file.

A NAME is a catalog name (``qwen2.5-coder-1.5b``), a repo (``Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF``,
optionally ``:Q8_0``), or ``repo/file.gguf``. Files are chosen from the repo's listing at
pull time, so a renamed file does not break a catalog entry. huggingface_hub is imported
here only, lazily: `%load_ext` and asking never load it.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from ..errors import HubAccessDenied, HubUnreachable, ModelNotFound, PullError, TinyAIError
from . import catalog

#: quantizations tried when none is named, after the catalog entry's own: the default first,
#: then nearby sizes, then the rest from small to large
FALLBACK_QUANTS = ("Q4_K_M", "Q4_K_S", "Q5_K_M", "Q4_0", "IQ4_XS", "Q6_K", "Q8_0", "Q3_K_L", "Q3_K_M",
                   "Q5_K_S", "Q5_0", "Q4_1", "Q3_K_S", "Q2_K", "F16", "BF16", "F32")
LISTING_TIMEOUT_S = 10  # a Hub that does not answer the listing in this long is unreachable
_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Za-z0-9]+)*|B?F16|F32)(?![A-Za-z0-9])", re.IGNORECASE)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


def endpoint() -> str:
    """The Hub's address: HF_ENDPOINT (a mirror, or the tests' local server) or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repo at one commit, as the Hub lists it."""

    repo_id: str
    filename: str
    commit: str
    size: int
    sha256: str = ""  # LFS files: the SHA-256 the Hub lists (also their cache blob name)
    blob_id: str = ""  # the git object id (other files' blob name and checksum)
    endpoint: str = ""
    revision: str = "main"  # the ref the commit was resolved from

    @property
    def etag(self) -> str:
        return self.sha256 or self.blob_id

    @property
    def quant(self) -> str:
        return quant_of(self.filename)

    @property
    def url(self) -> str:
        return f"{self.endpoint}/{self.repo_id}/resolve/{self.commit}/{quote(self.filename)}"

    @property
    def key(self) -> tuple:
        return (self.endpoint, self.repo_id, self.filename, self.etag)


@dataclass
class PullPlan:
    """What a NAME resolved to: the files that could be pulled, best first."""

    name: str
    repo_id: str
    commit: str
    candidates: list  # RemoteFile, best first; the pull takes the first that fits
    entry: object = None  # the catalog entry, when NAME is one
    explicit: bool = False  # a file or a quantization was named: no other is tried
    listing: list = field(default_factory=list)
    folder: list = field(default_factory=list)  # an MLX model: every file of its folder

    @property
    def is_mlx(self) -> bool:
        return bool(self.folder)


def quant_of(filename: str) -> str:
    """'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf' -> 'Q4_K_M' ('' when the name has none)."""
    found = _QUANT.findall(posixpath.basename(filename))
    return found[-1].upper() if found else ""


def is_model_gguf(path: str) -> bool:
    base = posixpath.basename(path).lower()
    return base.endswith(".gguf") and not base.startswith("mmproj") and "imatrix" not in base


def parse_name(name: str):
    """NAME -> (catalog entry or None, repo id, file name or None, quantization or None)."""
    text = name.strip()
    for prefix in ("https://huggingface.co/", "http://huggingface.co/", "hf.co/", endpoint() + "/"):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):]
    quant = None
    if ":" in text and not text.lower().endswith(".gguf"):
        text, quant = text.rsplit(":", 1)
    entry = catalog.get(text)
    if entry is not None:
        return entry, entry.repo, None, quant
    parts = [p for p in text.split("/") if p]
    if len(parts) >= 3 and parts[2] in ("resolve", "blob") and len(parts) >= 5:  # a file's page or download link
        parts = parts[:2] + parts[4:]
    if len(parts) == 2:
        return catalog.get("/".join(parts)), "/".join(parts), None, quant
    if len(parts) >= 3 and parts[-1].lower().endswith(".gguf"):
        repo = "/".join(parts[:2])
        return catalog.get(repo), repo, "/".join(parts[2:]), quant
    close = catalog.close_names(text)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ModelNotFound(
        f"{name!r} is not a catalog model, a Hugging Face repo (org/name) or a file (org/name/file.gguf).{hint} "
        "See `jupyter tinyai models --recommend` for the catalog."
    )


def choose(names, quant: str | None = None, preferred=()) -> list:
    """The GGUF files of a listing that a pull could take, best first.

    With ``quant``, only files of that quantization; otherwise ``preferred`` then
    FALLBACK_QUANTS, then any other. Split files (``-00001-of-00003.gguf``) are not pulled.
    Raises ModelNotFound / PullError with what the repo does hold.
    """
    models = [n for n in names if is_model_gguf(n)]
    whole = [n for n in models if not _SPLIT.search(n)]
    if not models:
        raise PullError("no GGUF file")  # the caller says which repo
    by_quant: dict = {}
    for n in sorted(whole, key=lambda n: (len(n), n)):  # the plainest name first (Q4_K_M before UD-Q4_K_M)
        by_quant.setdefault(quant_of(n), []).append(n)
    available = sorted(q for q in by_quant if q)
    if quant:
        wanted = quant.upper()
        if wanted in by_quant:
            return by_quant[wanted]
        split = sorted({quant_of(n) for n in models if _SPLIT.search(n)})
        if wanted in split:
            raise PullError(f"its {wanted} file is split into parts, which pull does not join: "
                            f"choose one of {', '.join(available) or 'none'} with --quant")
        raise ModelNotFound(f"there is no {wanted} file: choose one of {', '.join(available) or 'none'} with --quant")
    order = list(dict.fromkeys([q.upper() for q in preferred] + list(FALLBACK_QUANTS) + available))
    picked = [n for q in order for n in by_quant.get(q, [])]
    if not picked and len(whole) == 1:
        return whole
    if not picked:
        if whole:
            raise PullError(f"it holds several GGUF files and none of a known quantization: name one, "
                            f"e.g. REPO/{whole[0]}")
        raise PullError("its GGUF files are split into parts, which pull does not join")
    return picked


def no_telemetry() -> None:
    """Pull asks the Hub for the listing and the file, nothing else: huggingface_hub's telemetry
    (an agent registry fetched from the Hub, library versions in the user agent) is switched off."""
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True


def _list_repo(repo_id: str):
    """(commit, siblings) of the repo's main revision, with sizes and checksums."""
    from huggingface_hub import HfApi

    no_telemetry()
    api = HfApi(endpoint=endpoint())
    info = api.model_info(repo_id, files_metadata=True, timeout=LISTING_TIMEOUT_S)
    return info.sha, list(info.siblings or [])


def _remote(sibling, repo_id: str, commit: str) -> RemoteFile:
    lfs = sibling.lfs
    return RemoteFile(
        repo_id=repo_id,
        filename=sibling.rfilename,
        commit=commit,
        size=int(sibling.size or (lfs.size if lfs else 0) or 0),
        sha256=(lfs.sha256 if lfs else "") or "",
        blob_id=sibling.blob_id or "",
        endpoint=endpoint(),
    )


def _mlx_files(names) -> list:
    """The files of an MLX model folder (config, weights, tokenizer), or [] when it is not one.
    Only repos named as MLX builds (mlx-community/…, …-mlx) are pulled as such: other
    safetensors repos hold full-precision weights for other tools."""
    if "config.json" not in names or not any(n.endswith(".safetensors") for n in names):
        return []
    skip = (".md", ".gitattributes", ".png", ".jpg", ".jpeg", ".gif")
    return [n for n in names if "/" not in n and not n.lower().endswith(skip)]


def plan(name: str, quant: str | None = None, fmt: str | None = None) -> PullPlan:
    """Resolve NAME against the Hub's listing (one request). ``fmt``: "gguf" or "mlx" for a
    catalog entry (default: MLX where catalog.prefer_mlx() says so and the entry has a build)."""
    entry, repo_id, filename, name_quant = parse_name(name)
    quant = quant or name_quant
    if fmt == "mlx" and (entry is None or not entry.mlx) and not repo_id.lower().startswith("mlx-community/"):
        raise ModelNotFound(f"{name} has no MLX build in the catalog: pull its GGUF (without --format mlx).")
    if entry is not None and entry.mlx and repo_id == entry.repo and filename is None and (
        fmt == "mlx" or (fmt is None and catalog.prefer_mlx())
    ):
        repo_id = entry.mlx
    check_online()
    try:
        commit, siblings = _list_repo(repo_id)
    except Exception as exc:  # noqa: BLE001 - every Hub failure becomes one line
        raise translate(exc, repo_id) from None
    by_name = {s.rfilename: s for s in siblings}
    if filename is not None:
        if filename not in by_name:
            ggufs = [n for n in by_name if is_model_gguf(n)]
            close = difflib.get_close_matches(filename, ggufs, n=3, cutoff=0.3)
            hint = f" Did you mean: {', '.join(close)}?" if close else f" It holds: {', '.join(ggufs[:6]) or 'no GGUF file'}."
            raise ModelNotFound(f"{repo_id} has no file {filename!r}.{hint}")
        names, explicit = [filename], True
    elif "mlx" in repo_id.lower() and not any(is_model_gguf(n) for n in by_name) and _mlx_files(list(by_name)):
        return _mlx_plan(name, repo_id, commit, entry, by_name)
    else:
        try:
            names = choose(list(by_name), quant, entry.quants if entry else ())
        except TinyAIError as exc:
            if str(exc) == "no GGUF file":
                raise PullError(
                    f"{repo_id} holds no GGUF file (pull takes GGUF files for llama.cpp). Look for a repo "
                    f"of GGUF builds, usually named …-GGUF, or see `jupyter tinyai models --recommend`."
                ) from None
            raise type(exc)(f"{repo_id}: {exc}") from None
        explicit = bool(quant)
    files = [_remote(by_name[n], repo_id, commit) for n in names]
    for f in files:
        if not f.etag:
            raise PullError(f"the Hub lists no checksum for {repo_id}/{f.filename}, so it could not be verified: not pulled.")
    return PullPlan(name, repo_id, commit, files, entry, explicit, sorted(by_name))


def _mlx_plan(name, repo_id, commit, entry, by_name) -> PullPlan:
    import importlib.util

    if importlib.util.find_spec("mlx_lm") is None:
        raise PullError(
            f"{repo_id} is an MLX model folder, which runs only with MLX: `pip install 'jupyter-tinyai[mlx]'` "
            "(Apple Silicon), or pull a GGUF build of the model."
        )
    files = [_remote(by_name[n], repo_id, commit) for n in _mlx_files(list(by_name))]
    for f in files:
        if not f.etag:
            raise PullError(f"the Hub lists no checksum for {repo_id}/{f.filename}, so it could not be verified: not pulled.")
    return PullPlan(name, repo_id, commit, [], entry, True, sorted(by_name), folder=files)


def check_online() -> None:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise HubUnreachable("HF_HUB_OFFLINE is set, so pull cannot reach the Hugging Face Hub: unset it to download.")


def _is_transport_error(exc: BaseException) -> bool:
    """A network failure (no connection, timeout, dropped connection), whichever HTTP library
    huggingface_hub uses (httpx in 1.x, httpx2 in 2.x)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TransportError", "ConnectionError", "TimeoutError"}) or (
        isinstance(exc, OSError) and exc.errno is not None and not names & {"HfHubHTTPError"}
    )


def status_of(exc: BaseException) -> int:
    response = getattr(exc, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def translate(exc: BaseException, repo_id: str, filename: str | None = None) -> TinyAIError:
    """A huggingface_hub or network error as one line that says what to do.

    Messages never include the server's text or request headers, so a token cannot leak.
    """
    if isinstance(exc, TinyAIError):
        return exc
    from huggingface_hub.errors import (
        GatedRepoError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    page = f"{endpoint()}/{repo_id}"
    if isinstance(exc, OfflineModeIsEnabled):
        return HubUnreachable("HF_HUB_OFFLINE is set, so pull cannot reach the Hugging Face Hub: unset it to download.")
    if isinstance(exc, GatedRepoError):
        return HubAccessDenied(
            f"{repo_id} is gated: accept its licence on {page} while logged in, then set HF_TOKEN to a read "
            f"token of that account ({endpoint()}/settings/tokens) and pull again."
        )
    if isinstance(exc, RepositoryNotFoundError):
        others = [e.repo.lower() for e in catalog.entries() if e.repo.lower() != repo_id.lower()]  # never itself
        close = difflib.get_close_matches(repo_id.lower(), others, n=3, cutoff=0.6)
        repos = {e.repo.lower(): e.repo for e in catalog.entries()}
        hint = f" Did you mean: {', '.join(repos[c] for c in close)}?" if close else ""
        private = " If it is private, set HF_TOKEN." if not os.environ.get("HF_TOKEN") else ""
        return ModelNotFound(f"there is no model repo {repo_id!r} on the Hub ({endpoint()}).{hint}{private}")
    if isinstance(exc, RevisionNotFoundError):
        return ModelNotFound(f"{repo_id} has no main revision on the Hub.")
    if isinstance(exc, RemoteEntryNotFoundError):
        return ModelNotFound(f"{repo_id} has no file {filename!r} (any more): run the pull again to list the repo afresh.")
    status = status_of(exc)
    if status == 401:
        return HubAccessDenied(
            f"the Hub refused the token for {repo_id} (401 Unauthorized): check HF_TOKEN "
            f"({endpoint()}/settings/tokens), or unset it for public models."
        )
    if status == 403:
        return HubAccessDenied(
            f"the Hub refused access to {repo_id} (403 Forbidden): the token in HF_TOKEN lacks read access to it, "
            f"or its licence is not accepted yet on {page}."
        )
    if status == 429:
        return PullError("the Hub is rate-limiting this machine (429): wait a minute and pull again (it resumes).")
    if status >= 500:
        return PullError(f"the Hub failed ({status}): try again later; a partial download resumes.")
    if status:
        return PullError(f"the Hub answered {status} for {repo_id}.")
    if _is_transport_error(exc):
        return HubUnreachable(
            f"cannot reach the Hugging Face Hub at {endpoint()} ({type(exc).__name__}): pull needs a network "
            "connection, and nothing was downloaded. Behind a mirror, set HF_ENDPOINT."
        )
    return PullError(f"talking to the Hub about {repo_id} failed ({type(exc).__name__}).")
