"""`pull` against a local Hub: the cache layout, verification, resume, errors, sharing."""

import os
import threading

import pytest
from helpers.fake_hub import closed_port

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import (
    ChecksumMismatch,
    DownloadInterrupted,
    HubAccessDenied,
    HubUnreachable,
    InsufficientMemory,
    ModelNotFound,
    NotEnoughDisk,
    PullCancelled,
    PullError,
)
from jupyter_tinyai.memory import MemoryBudget
from jupyter_tinyai.models import download, list_models, resolve
from jupyter_tinyai.models import pull as pull_module
from jupyter_tinyai.models.pull import pull, pull_file

REPO = "someone/Tiny-GGUF"
MB = 1000**2


@pytest.fixture
def settings():
    return load_settings(host="inprocess")


@pytest.fixture
def tiny_repo(hub, gguf_bytes):
    """A repo with two quantizations, a projector and a README; the Q4_K_M file is 3 MB."""
    return hub.add(REPO, {
        "README.md": b"# tiny\n",
        "tiny-Q4_K_M.gguf": gguf_bytes("tiny", data_bytes=3 * MB),
        "tiny-Q8_0.gguf": gguf_bytes("tiny", data_bytes=5 * MB, file_type=7),
        "mmproj-tiny-F16.gguf": gguf_bytes("proj", data_bytes=1000, file_type=1),
    })


def storage():
    return os.path.join(os.environ["HF_HUB_CACHE"], "models--someone--Tiny-GGUF")


def test_pull_lands_verified_in_the_cache_and_is_listed(tiny_repo, settings):
    spec = pull(REPO, settings=settings)
    meta = tiny_repo.meta("tiny-Q4_K_M.gguf")
    pointer = os.path.join(storage(), "snapshots", tiny_repo.commit, "tiny-Q4_K_M.gguf")
    assert spec.path == pointer and os.path.islink(pointer)
    assert os.path.realpath(pointer) == os.path.join(storage(), "blobs", meta["sha256"])
    with open(os.path.join(storage(), "refs", "main")) as handle:
        assert handle.read() == tiny_repo.commit
    assert spec.quantization == "Q4_K_M" and spec.source == "hf-cache"
    assert spec.extra["pull"]["sha256"] == meta["sha256"] and spec.extra["pull"]["fetched_bytes"] == meta["size"]
    listed = {m.id: m for m in list_models(settings)}
    assert listed[spec.id].path == pointer
    assert resolve("tiny-Q4_K_M", settings).path == pointer
    assert not [n for n in os.listdir(os.path.join(storage(), "blobs")) if n.endswith(".incomplete")]
    # huggingface_hub's own cache API sees the same file
    from huggingface_hub import scan_cache_dir

    repo = next(r for r in scan_cache_dir(os.environ["HF_HUB_CACHE"]).repos if r.repo_id == REPO)
    assert [f.file_name for rev in repo.revisions for f in rev.files] == ["tiny-Q4_K_M.gguf"]


def test_a_second_pull_downloads_nothing(hub, tiny_repo, settings):
    pull(REPO, settings=settings)
    again = pull_file(REPO, settings=settings)
    assert again.already_present and again.fetched_bytes == 0
    assert len(hub.gets()) == 1


def test_quant_option_and_repo_file_names(hub, tiny_repo, settings):
    assert pull(REPO, "Q8_0", settings=settings).quantization == "Q8_0"
    assert pull(f"{REPO}/tiny-Q4_K_M.gguf", settings=settings).quantization == "Q4_K_M"
    assert pull(f"{REPO}:q8_0", settings=settings).quantization == "Q8_0"
    with pytest.raises(ModelNotFound, match=r"^someone/Tiny-GGUF: there is no Q5_K_M file: choose one of Q4_K_M, Q8_0 with --quant$"):
        pull(REPO, "Q5_K_M", settings=settings)
    with pytest.raises(ModelNotFound, match=r"has no file 'tiny-Q4_K_N.gguf'. Did you mean: tiny-Q4_K_M.gguf"):
        pull(f"{REPO}/tiny-Q4_K_N.gguf", settings=settings)


def test_a_catalog_repo_missing_from_the_hub_is_not_suggested_as_itself(hub, settings):
    # a mirror (HF_ENDPOINT) without the repo, or a repo renamed since the catalog was written
    with pytest.raises(ModelNotFound) as info:
        pull("qwen2.5-coder-1.5b", settings=settings)
    message = str(info.value)
    assert message.startswith("there is no model repo 'Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF' on the Hub")
    assert "Did you mean: Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF" not in message


def test_hub_errors_are_one_line(hub, tiny_repo, settings, gguf_bytes):
    with pytest.raises(ModelNotFound, match=r"^there is no model repo 'someone/Nope-GGUF' on the Hub \(http://127"):
        pull("someone/Nope-GGUF", settings=settings)
    hub.add("someone/Weights", {"model.safetensors": b"\0" * 10, "config.json": b"{}"})
    with pytest.raises(PullError, match=r"^someone/Weights holds no GGUF file"):
        pull("someone/Weights", settings=settings)
    hub.add("org/Gated-GGUF", {"g-Q4_K_M.gguf": gguf_bytes("g")}, gated=True)
    with pytest.raises(HubAccessDenied, match=r"^org/Gated-GGUF is gated: accept its licence on http://127.*/org/Gated-GGUF .*set HF_TOKEN"):
        pull("org/Gated-GGUF", settings=settings)
    hub.switches.status = 403
    with pytest.raises(HubAccessDenied, match=r"\(403 Forbidden\)"):
        pull(REPO, settings=settings)
    hub.switches.status = 401
    with pytest.raises(HubAccessDenied, match=r"\(401 Unauthorized\): check HF_TOKEN"):
        pull(REPO, settings=settings)
    assert not os.path.exists(os.path.join(storage(), "snapshots"))


def test_checksum_mismatch_removes_the_file(hub, tiny_repo, settings):
    hub.switches.corrupt = True
    with pytest.raises(ChecksumMismatch, match=r"did not match the checksum the Hub lists.*it was removed. Run the same pull again"):
        pull(REPO, settings=settings)
    blobs = os.path.join(storage(), "blobs")
    assert os.listdir(blobs) == []
    assert not [m for m in list_models(settings) if m.source == "hf-cache"]
    hub.switches.corrupt = False
    assert pull(REPO, settings=settings).quantization == "Q4_K_M"


def test_a_dropped_connection_resumes_within_the_pull(hub, tiny_repo, settings):
    size = tiny_repo.meta("tiny-Q4_K_M.gguf")["size"]
    hub.switches.drop_after, hub.switches.drops = size // 3, 2
    pulled = pull_file(REPO, settings=settings)
    gets = hub.gets()
    assert [g.range for g in gets] == ["", f"bytes={size // 3}-", f"bytes={2 * (size // 3)}-"]
    assert sum(g.sent for g in gets) == size  # not a byte twice
    assert pulled.fetched_bytes == size and pulled.spec.quantization == "Q4_K_M"


def test_a_connection_that_stays_down_keeps_the_partial_file_and_the_next_pull_resumes(hub, tiny_repo, settings):
    size = tiny_repo.meta("tiny-Q4_K_M.gguf")["size"]
    hub.switches.drop_after, hub.switches.drops, hub.switches.status_after_drop = size // 2, 1, 503
    with pytest.raises(DownloadInterrupted, match=r"dropped after 1\.\d MB of 3\.\d MB \(HTTP 503\); the partial download is kept: run the same pull again"):
        pull(REPO, settings=settings)
    partial = os.path.join(storage(), "blobs", tiny_repo.meta("tiny-Q4_K_M.gguf")["sha256"] + ".incomplete")
    assert os.path.getsize(partial) == size // 2
    assert not [m for m in list_models(settings) if m.source == "hf-cache"]  # nothing half-written is listed
    hub.switches.status_after_drop = None
    before = len(hub.requests)
    pulled = pull_file(REPO, settings=settings)
    second = [r for r in hub.requests[before:] if "/resolve/" in r.path]
    assert [r.range for r in second] == [f"bytes={size // 2}-"]
    assert second[0].sent == size - size // 2 < size
    assert pulled.resumed_from == size // 2 and pulled.fetched_bytes == size - size // 2
    assert not os.path.exists(partial)


def test_a_server_that_ignores_range_still_gives_a_verified_file(hub, tiny_repo, settings):
    size = tiny_repo.meta("tiny-Q4_K_M.gguf")["size"]
    hub.switches.drop_after, hub.switches.drops, hub.switches.ignore_range = size // 2, 1, True
    pulled = pull_file(REPO, settings=settings)
    assert [g.status for g in hub.gets()] == [200, 200]
    assert pulled.spec.size_bytes == size


def test_a_cache_that_cannot_be_written_is_one_line(hub, tiny_repo, settings, monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("")
    cache = str(tmp_path / "a-file" / "hub")  # HF_HUB_CACHE under a file: no folder can be made there
    monkeypatch.setenv("HF_HUB_CACHE", cache)
    with pytest.raises(PullError, match=r"^cannot write tiny-Q4_K_M.gguf into the Hugging Face cache at .*a-file/hub \(NotADirectoryError: .*\): "
                                        r"free some space, or set HF_HUB_CACHE to a folder you can write to"):
        pull(REPO, settings=settings)


def test_not_enough_disk_is_refused_before_downloading(hub, tiny_repo, settings, monkeypatch):
    monkeypatch.setattr(pull_module, "free_disk_bytes", lambda path: 10 * MB)
    with pytest.raises(NotEnoughDisk, match=r"^not enough disk space for tiny-Q4_K_M.gguf: it needs 3\.\d MB more, but only 10\.0 MB is free in .*hf-hub"):
        pull(REPO, settings=settings)
    assert hub.gets() == []


def test_too_large_is_refused_unless_forced_and_a_smaller_quant_is_taken(hub, tiny_repo, settings, monkeypatch):
    import jupyter_tinyai.memory as memory

    # a machine where a model may use 85% of 240 MB: Q4_K_M (3 MB + the estimated context + 192 MB of
    # buffers) fits; forcing Q8_0 is refused with the numbers
    monkeypatch.setattr(memory, "memory_budget", lambda: MemoryBudget(200 * 1024 * 1024 + 4 * MB, 230 * MB))
    with pytest.raises(InsufficientMemory, match=r"^tiny-Q8_0.gguf is too large for this machine: it needs .*--force"):
        pull(REPO, "Q8_0", settings=settings)
    assert hub.gets() == []
    assert pull(REPO, "Q8_0", force=True, settings=settings).quantization == "Q8_0"


def test_offline_fails_at_once(monkeypatch, settings):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(HubUnreachable, match=r"^cannot reach the Hugging Face Hub at http://127.0.0.1:\d+ \(ConnectError\): pull needs a network connection"):
        pull(REPO, settings=settings)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnreachable, match="HF_HUB_OFFLINE is set"):
        pull("qwen2.5-coder-1.5b", settings=settings)


def test_cancel_keeps_the_partial_file(hub, tiny_repo, settings):
    size = tiny_repo.meta("tiny-Q4_K_M.gguf")["size"]
    hub.switches.pause_at = 2 * MB
    cancel, errors, seen = threading.Event(), [], []

    def run():
        try:
            pull(REPO, settings=settings, cancel=cancel, progress=seen.append)
        except PullCancelled as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert hub.paused.wait(30)
    cancel.set()
    worker.join(30)
    assert not worker.is_alive() and errors and "pull again to resume" in str(errors[0])
    partial = os.path.join(storage(), "blobs", tiny_repo.meta("tiny-Q4_K_M.gguf")["sha256"] + ".incomplete")
    assert os.path.getsize(partial) == 2 * MB  # every byte received is on disk
    hub.resume.set()
    while download.active():  # the transfer ends at its next chunk
        threading.Event().wait(0.01)
    assert os.path.getsize(partial) < tiny_repo.meta("tiny-Q4_K_M.gguf")["size"]
    assert seen and seen[-1].phase == "downloading" and seen[-1].total == size
    hub.switches.pause_at = None
    pulled = pull_file(REPO, settings=settings)
    assert pulled.resumed_from == os.path.getsize(pulled.spec.path) - pulled.fetched_bytes > 0


def test_two_pulls_of_one_file_share_one_download(hub, tiny_repo, settings):
    hub.switches.pause_at = 1 * MB
    results, progress = {}, {"a": [], "b": []}

    def run(who):
        results[who] = pull_file(REPO, settings=settings, progress=progress[who].append)

    first = threading.Thread(target=run, args=("a",))
    first.start()
    assert hub.paused.wait(30)
    second = threading.Thread(target=run, args=("b",))
    second.start()
    while not progress["b"]:  # the second pull has joined the transfer and got its state
        second.join(0.01)
    hub.resume.set()
    first.join(30)
    second.join(30)
    assert len(hub.gets()) == 1
    assert results["a"].spec.path == results["b"].spec.path
    assert progress["a"][-1].phase == progress["b"][-1].phase == "done"


def waiters():
    with download._registry_lock:
        return sum(t.waiters for t in download._active.values())


def test_one_of_two_waiters_cancelling_does_not_stop_the_other(hub, tiny_repo, settings):
    hub.switches.pause_at = 1 * MB
    cancel, outcome = threading.Event(), {}

    def run(who, event=None):
        try:
            outcome[who] = pull(REPO, settings=settings, cancel=event)
        except PullCancelled as exc:
            outcome[who] = exc

    a = threading.Thread(target=run, args=("a", cancel))
    a.start()
    assert hub.paused.wait(30)
    b = threading.Thread(target=run, args=("b",))
    b.start()
    while waiters() < 2:  # b has joined a's transfer
        b.join(0.01)
    cancel.set()
    a.join(30)
    assert isinstance(outcome["a"], PullCancelled)
    hub.resume.set()
    b.join(30)
    assert outcome["b"].quantization == "Q4_K_M" and len(hub.gets()) == 1


def test_a_file_pulled_before_the_repo_changed_stays_listed(hub, tiny_repo, settings):
    first = pull(REPO, settings=settings)
    tiny_repo.commit = "b" * 40  # a new commit on main (say, the README was edited)
    second = pull(REPO, "Q8_0", settings=settings)
    with open(os.path.join(storage(), "refs", "main")) as handle:
        assert handle.read() == "b" * 40
    listed = {m.path for m in list_models(settings) if m.source == "hf-cache"}
    assert listed == {first.path, second.path}


MLX_CONFIG = b'{"model_type": "llama", "quantization": {"bits": 4, "group_size": 64}, "max_position_embeddings": 4096}'


@pytest.fixture
def mlx_repo(hub):
    from backends.mlx_required import require_mlx

    require_mlx()
    return hub.add("mlx-community/Tiny-4bit", {
        "README.md": b"# tiny\n", "config.json": MLX_CONFIG, "tokenizer.json": b'{"model": {}}',
        "model.safetensors": b"\0" * (2 * MB),
    })


def test_an_mlx_folder_is_pulled_file_by_file_and_listed(hub, mlx_repo, settings):
    seen = []
    pulled = pull_file("mlx-community/Tiny-4bit", settings=settings, progress=seen.append)
    assert pulled.spec.id == "mlx:Tiny-4bit" and pulled.spec.format == "mlx" and pulled.spec.quantization == "4bit"
    folder = os.path.join(os.environ["HF_HUB_CACHE"], "models--mlx-community--Tiny-4bit", "snapshots", mlx_repo.commit)
    assert pulled.spec.path == folder and sorted(os.listdir(folder)) == ["config.json", "model.safetensors", "tokenizer.json"]
    assert {m.id for m in list_models(settings) if m.source == "hf-cache"} == {"mlx:Tiny-4bit"}
    total = sum(len(mlx_repo.data(n)) for n in ("config.json", "model.safetensors", "tokenizer.json"))
    assert seen[-1].phase == "done" and seen[-1].done == seen[-1].total == total
    assert all(p.phase != "done" for p in seen[:-1]) and all(p.total == total for p in seen)


def test_an_mlx_file_that_differs_from_its_git_id_is_removed(hub, mlx_repo, settings):
    hub.switches.corrupt = True  # config.json is not an LFS file: its git object id is checked
    with pytest.raises(ChecksumMismatch, match=r"^config.json did not match .*SHA-1 differs"):
        pull("mlx-community/Tiny-4bit", settings=settings)
    assert not [m for m in list_models(settings) if m.source == "hf-cache"]


def test_a_catalog_entry_pulls_its_mlx_build_when_asked(hub, settings, gguf_bytes):
    from backends.mlx_required import require_mlx

    require_mlx()
    hub.add("mlx-community/Qwen2.5-Coder-1.5B-Instruct-4bit", {"config.json": MLX_CONFIG, "model.safetensors": b"\0" * 1000})
    hub.add("Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", {"qwen2.5-coder-1.5b-instruct-q4_k_m.gguf": gguf_bytes("q")})
    assert pull("qwen2.5-coder-1.5b", settings=settings).format == "gguf"  # not Apple Silicon: the GGUF
    assert pull("qwen2.5-coder-1.5b", settings=settings, fmt="mlx").id == "mlx:Qwen2.5-Coder-1.5B-Instruct-4bit"
    with pytest.raises(ModelNotFound, match="has no MLX build"):
        pull("someone/Tiny-GGUF", settings=settings, fmt="mlx")
