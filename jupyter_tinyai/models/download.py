"""Fetch one file of a Hub repo into the Hugging Face cache: resumable, verified, shared.

The cache layout is huggingface_hub's, so its tools and ours find the file::

    <cache>/models--org--name/blobs/<sha256>              the verified file
                              blobs/<sha256>.incomplete   a partial download, resumed next time
                              snapshots/<commit>/<file>   -> ../../blobs/<sha256>
                              refs/main                   <commit>
    <cache>/.locks/models--org--name/<sha256>.lock        held while writing (huggingface_hub's lock)

huggingface_hub (2.x) downloads to a temporary file that it deletes when a download fails,
so a dropped or stopped download starts over. Here the partial file is kept and the next
request asks only for the rest (HTTP Range), through huggingface_hub's own HTTP session,
headers (HF_TOKEN) and error mapping. The file is checked against the SHA-256 the Hub lists
before it appears in the snapshot, so nothing half-written or corrupt is ever listed.

In one process, two pulls of the same file share one transfer (:func:`fetch`); across
processes the lock makes the second wait for the first and then find the file done.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from ..errors import ChecksumMismatch, DownloadInterrupted, PullCancelled, PullError, TinyAIError
from .spec import human_size

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # read size when hashing
REPORT_EVERY_S = 0.1  # at most ten progress reports a second
#: waits before retrying after a dropped connection or a Hub hiccup (then: resume hint)
RETRY_WAITS_S = (1.0, 2.0, 4.0)


@dataclass
class Progress:
    """One report of a pull in progress, sent to the ``progress`` callback (from a worker thread)."""

    file: str
    phase: str  # "waiting" (another process is downloading it) | "downloading" | "verifying" | "done"
    done: int  # bytes on disk (downloading), hashed (verifying)
    total: int
    speed: float = 0.0  # bytes per second, recent
    resumed_from: int = 0  # bytes already on disk when this transfer started
    partial_path: str = field(default="", repr=False)  # the partial file, while downloading

    def bytes_on_disk(self) -> int:
        """What a stopped pull keeps (reports are throttled, the file is not)."""
        try:
            return os.path.getsize(self.partial_path) if self.partial_path else self.done
        except OSError:
            return self.done

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    @property
    def eta_s(self) -> float | None:
        return (self.total - self.done) / self.speed if self.speed > 0 and self.phase == "downloading" else None

    def message(self) -> str:
        """'qwen….gguf  512.0 MB / 1.1 GB · 24.3 MB/s · 25 s left' (one line, for a progress bar)."""
        sizes = f"{human_size(self.done)} / {human_size(self.total)}"
        if self.phase == "waiting":
            return f"{self.file}  waiting for another download of it ({sizes})"
        if self.phase == "verifying":
            return f"{self.file}  verifying SHA-256 ({sizes})"
        if self.phase == "done":
            return f"{self.file}  {human_size(self.total)}, verified"
        parts = [f"{self.file}  {sizes}"]
        if self.speed > 0:
            parts.append(f"{human_size(int(self.speed))}/s")
        if self.eta_s is not None:
            parts.append(f"{_duration(self.eta_s)} left")
        return " · ".join(parts)

    def to_dict(self) -> dict:
        return {"file": self.file, "phase": self.phase, "done": self.done, "total": self.total,
                "speed": self.speed, "eta_s": self.eta_s, "resumed_from": self.resumed_from}


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class Fetched:
    """The outcome of :func:`fetch`."""

    path: str  # the snapshot path of the file (a symlink into blobs/)
    fetched_bytes: int = 0  # bytes that came over the network in this transfer
    resumed_from: int = 0  # bytes that were already on disk from an earlier, stopped pull
    already_present: bool = False


class Paths:
    """Where one file lives in the Hugging Face cache."""

    def __init__(self, f, cache_dir: str | None = None):
        from .sources import hf_cache_dir

        self.cache = cache_dir or hf_cache_dir()
        folder = "models--" + f.repo_id.replace("/", "--")
        self.storage = os.path.join(self.cache, folder)
        self.blob = os.path.join(self.storage, "blobs", f.etag)
        self.incomplete = self.blob + ".incomplete"
        self.pointer = os.path.join(self.storage, "snapshots", f.commit, *f.filename.split("/"))
        self.ref = os.path.join(self.storage, "refs", f.revision)
        self.lock = os.path.join(self.cache, ".locks", folder, f.etag + ".lock")


def partial_bytes(f) -> int:
    """Bytes of ``f`` already on disk: all of it when pulled, else the partial download."""
    paths = Paths(f)
    if _complete(paths, f):
        return f.size
    try:
        return min(os.path.getsize(paths.incomplete), f.size)
    except OSError:
        return 0


def _complete(paths: Paths, f) -> bool:
    try:
        return os.path.getsize(paths.blob) == f.size
    except OSError:
        return False


# --- one transfer per file in this process, any number of waiters ---------------------------

_registry_lock = threading.Lock()
_active: dict = {}


class _Transfer:
    def __init__(self, f):
        self.file = f
        self.listeners: list = []
        self.waiters = 0
        self.stop = threading.Event()
        self.finished = threading.Event()
        self.result: Fetched | None = None
        self.error: BaseException | None = None
        self.last: Progress | None = None
        self.thread = threading.Thread(target=self._run, name=f"tinyai-pull {f.filename}", daemon=True)

    def publish(self, progress: Progress) -> None:
        self.last = progress
        for listener in list(self.listeners):
            try:
                listener(progress)
            except Exception:  # noqa: BLE001 - a broken progress view must not stop the download
                log.exception("a pull progress callback failed")

    def _run(self) -> None:
        try:
            self.result = _download(self.file, self.publish, self.stop.is_set)
        except (ConnectionError, TimeoutError) as exc:  # the network's: as they were
            self.error = exc
        except OSError as exc:  # the disk's: full, read-only, HF_HUB_CACHE not a folder
            self.error = _cache_error(self.file, exc)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter
            self.error = exc
        finally:
            with _registry_lock:
                if _active.get(self.file.key) is self:
                    del _active[self.file.key]
            self.finished.set()


def fetch(f, progress=None, cancel: threading.Event | None = None) -> Fetched:
    """Download ``f`` (a hub.RemoteFile) into the cache unless it is there; its snapshot path.

    Usable from any thread. ``progress(Progress)`` is called from the transfer's thread.
    A second call for the same file while the first runs joins it (one download, both get
    the progress). ``cancel`` (an Event) or KeyboardInterrupt stops waiting; the transfer
    itself stops when its last waiter has gone, keeping the partial file for a resume.
    """
    while True:
        with _registry_lock:
            transfer = _active.get(f.key)
            start = transfer is None
            if start:
                transfer = _active[f.key] = _Transfer(f)
            if not transfer.stop.is_set():
                transfer.waiters += 1
                if progress is not None:
                    transfer.listeners.append(progress)
                break
        transfer.finished.wait()  # it is stopping for its last waiter: wait, then start anew
    if start:
        transfer.thread.start()
    elif progress is not None and transfer.last is not None:
        progress(transfer.last)
    try:
        while not transfer.finished.wait(0.05):
            if cancel is not None and cancel.is_set():
                last = transfer.last
                done = f"{human_size(last.done)} of {human_size(last.total)} " if last else ""
                raise PullCancelled(f"stopped: the {done}already downloaded are kept; pull again to resume.")
    except BaseException:
        _leave(transfer, progress, abandon=True)
        raise
    _leave(transfer, progress, abandon=False)
    if transfer.error is not None:
        raise transfer.error
    return transfer.result


def _leave(transfer: _Transfer, progress, abandon: bool) -> None:
    with _registry_lock:
        transfer.waiters -= 1
        if progress in transfer.listeners:
            transfer.listeners.remove(progress)
        last_one = transfer.waiters == 0 and not transfer.finished.is_set()
        if abandon and last_one:
            transfer.stop.set()
    if abandon and last_one:
        # it stops at its next chunk; a stalled connection ends at the read timeout (every byte
        # received is already on disk, so nothing is lost by not waiting longer)
        transfer.thread.join(timeout=0.5)


def active() -> list:
    """The files being downloaded in this process, with their last progress (for status views)."""
    with _registry_lock:
        return [(t.file, t.last) for t in _active.values()]


# --- the transfer itself ------------------------------------------------------------------------


class _Meter:
    """Progress reports for one file: throttled, with a recent speed."""

    def __init__(self, f, report, start: int):
        self.f, self.report, self.resumed_from = f, report, start
        self.done = start
        self.fetched = 0
        self.window = [(time.monotonic(), start)]
        self.last_report = 0.0

    def add(self, n: int) -> None:
        self.done += n
        self.fetched += n
        self.emit()

    def restart(self) -> None:  # the server ignored our Range request: the file starts over
        self.done, self.resumed_from = 0, 0
        self.window = [(time.monotonic(), 0)]

    def emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_report < REPORT_EVERY_S:
            return
        self.last_report = now
        self.window.append((now, self.done))
        while len(self.window) > 2 and now - self.window[0][0] > 5.0:
            self.window.pop(0)
        (t0, b0), (t1, b1) = self.window[0], self.window[-1]
        speed = (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
        self.report(Progress(self.f.filename, "downloading", self.done, self.f.size, speed, self.resumed_from,
                             Paths(self.f).incomplete))


def _cache_error(f, exc: OSError) -> PullError:
    cache = Paths(f).cache
    why = f"{type(exc).__name__}: {exc.strerror or exc}"
    return PullError(f"cannot write {f.filename} into the Hugging Face cache at {cache} ({why}): free some space, or "
                     "set HF_HUB_CACHE to a folder you can write to; what was downloaded is kept, pull again to resume.")


def _download(f, report, stopped) -> Fetched:
    paths = Paths(f)
    if _complete(paths, f):
        _link(paths, f)
        report(Progress(f.filename, "done", f.size, f.size))
        return Fetched(paths.pointer, already_present=True)
    os.makedirs(os.path.dirname(paths.blob), exist_ok=True)
    os.makedirs(os.path.dirname(paths.lock), exist_ok=True)
    with _exclusive(paths, f, report, stopped):
        if _complete(paths, f):  # another process finished it while we waited
            _link(paths, f)
            report(Progress(f.filename, "done", f.size, f.size))
            return Fetched(paths.pointer, already_present=True)
        with open(paths.incomplete, "ab", buffering=0) as out:  # on disk as it arrives
            if out.tell() > f.size:  # not a prefix of this file: start over
                out.seek(0)
                out.truncate()
            meter = _Meter(f, report, out.tell())
            _stream(f, out, meter, stopped)
        _verify(paths, f, report, stopped)
        os.replace(paths.incomplete, paths.blob)
        _link(paths, f)
    report(Progress(f.filename, "done", f.size, f.size, resumed_from=meter.resumed_from))
    return Fetched(paths.pointer, fetched_bytes=meter.fetched, resumed_from=meter.resumed_from)


@contextlib.contextmanager
def _exclusive(paths: Paths, f, report, stopped):
    """huggingface_hub's lock on this blob, waited for in short steps so Stop still works."""
    from filelock import Timeout
    from huggingface_hub.utils import WeakFileLock

    while True:
        if stopped():
            raise PullCancelled("stopped while another download of the same file was running.")
        holder = WeakFileLock(paths.lock, timeout=0.25)
        try:
            holder.__enter__()
        except Timeout:
            try:
                size = os.path.getsize(paths.incomplete)
            except OSError:
                size = 0
            report(Progress(f.filename, "waiting", size, f.size))
            continue
        try:
            yield
        finally:
            holder.__exit__(None, None, None)
        return


def _stream(f, out, meter: _Meter, stopped) -> None:
    """Append the rest of ``f`` to ``out`` (Range from ``out.tell()``), retrying dropped connections."""
    from huggingface_hub import constants
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    from .hub import _is_transport_error, no_telemetry, status_of, translate

    no_telemetry()
    headers = build_hf_headers()  # the user agent and HF_TOKEN (or the stored login); never logged
    headers["Accept-Encoding"] = "identity"  # byte offsets must be those of the file
    failures = 0
    while out.tell() < f.size:
        if stopped():
            raise PullCancelled(_kept(out.tell(), f))
        position = out.tell()
        request = dict(headers)
        if position:
            request["Range"] = f"bytes={position}-"
        try:
            with get_session().stream("GET", f.url, headers=request, timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT) as response:
                hf_raise_for_status(response)
                if position and response.status_code != 206:  # the server ignored the Range
                    out.seek(0)
                    out.truncate()
                    meter.restart()
                for chunk in response.iter_bytes():  # as it arrives: a dropped connection loses nothing
                    out.write(chunk)
                    meter.add(len(chunk))
                    failures = 0
                    if out.tell() > f.size:
                        break
                    if stopped():
                        raise PullCancelled(_kept(out.tell(), f))
        except TinyAIError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below
            status = status_of(exc)
            if not (_is_transport_error(exc) or status == 429 or status >= 500):
                raise translate(exc, f.repo_id, f.filename) from None
            failures = _retry_or_give_up(failures, f"HTTP {status}" if status else type(exc).__name__, out, f, stopped)
            continue
        if out.tell() > f.size:
            break
        if out.tell() < f.size:  # the body ended early without an error
            failures = _retry_or_give_up(failures, "the body ended early", out, f, stopped)
    out.flush()
    meter.emit(force=True)


def _retry_or_give_up(failures: int, reason: str, out, f, stopped) -> int:
    """Wait before the next attempt, or raise the resume hint when the retries are used up."""
    if failures >= len(RETRY_WAITS_S):
        out.flush()
        raise DownloadInterrupted(
            f"the connection to {f.endpoint} dropped after {human_size(out.tell())} of {human_size(f.size)} "
            f"({reason}); the partial download is kept: run the same pull again to resume from there."
        )
    _sleep(RETRY_WAITS_S[failures], stopped)
    return failures + 1


def _kept(done: int, f) -> str:
    return (f"stopped: {human_size(done)} of {human_size(f.size)} of {f.filename} are kept; "
            "run the same pull again to resume.")


def _sleep(seconds: float, stopped) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if stopped():
            return
        time.sleep(min(0.05, max(end - time.monotonic(), 0)))


def _verify(paths: Paths, f, report, stopped) -> None:
    """SHA-256 (LFS files) or the git object id against what the Hub listed; a mismatch removes
    the file."""
    size = os.path.getsize(paths.incomplete)
    if f.sha256:
        digest = hashlib.sha256()
    else:  # a small file kept in git: its id is the SHA-1 of "blob <size>\0" + content
        digest = hashlib.sha1()
        digest.update(f"blob {size}\0".encode())
    done, last = 0, 0.0
    with open(paths.incomplete, "rb") as handle:
        while True:
            block = handle.read(4 * CHUNK)
            if not block:
                break
            digest.update(block)
            done += len(block)
            now = time.monotonic()
            if now - last >= REPORT_EVERY_S:
                last = now
                report(Progress(f.filename, "verifying", done, size))
    expected = f.sha256 or f.blob_id
    if size != f.size or digest.hexdigest() != expected.lower():
        os.unlink(paths.incomplete)
        raise ChecksumMismatch(
            f"{f.filename} did not match the checksum the Hub lists for it (got {human_size(size)} of "
            f"{human_size(f.size)}, SHA-{'256' if f.sha256 else '1'} differs): it was removed. Run the same pull "
            "again to download it afresh."
        )


def _link(paths: Paths, f) -> None:
    """The snapshot entry pointing at the blob, and refs/<revision> naming the commit."""
    os.makedirs(os.path.dirname(paths.pointer), exist_ok=True)
    if os.path.lexists(paths.pointer):
        if os.path.realpath(paths.pointer) == os.path.realpath(paths.blob):
            _write_ref(paths, f)
            return
        os.unlink(paths.pointer)
    target = os.path.relpath(paths.blob, os.path.dirname(paths.pointer))
    try:
        os.symlink(target, paths.pointer)
    except OSError:  # no symlinks here (Windows without developer mode): as huggingface_hub does
        os.replace(paths.blob, paths.pointer)
    _write_ref(paths, f)


def _write_ref(paths: Paths, f) -> None:
    if not f.revision or f.revision == f.commit:
        return
    os.makedirs(os.path.dirname(paths.ref), exist_ok=True)
    try:
        with open(paths.ref, encoding="utf-8") as handle:
            if handle.read().strip() == f.commit:
                return
    except OSError:
        pass
    tmp = f"{paths.ref}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(f.commit)
    os.replace(tmp, paths.ref)
