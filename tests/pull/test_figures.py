"""Figures of a pull of the bundled 98 MB GGUF over loopback, printed (run with -s).

Asserts only what does not depend on the machine's speed.
"""

import io
import os
import shutil
import time

import pytest

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.errors import DownloadInterrupted
from jupyter_tinyai.models.commands import _PullView
from jupyter_tinyai.models.pull import pull_file
from jupyter_tinyai.models.sources import bundled_path

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"


def test_resume_saving_and_progress_overhead(hub):
    repo = hub.add(REPO, {"smollm2-chat-Q4_1.gguf": bundled_path()})
    size = repo.meta("smollm2-chat-Q4_1.gguf")["size"]
    settings = load_settings(host="inprocess")

    # a connection that dies at 60% and stays down, then a second pull
    hub.switches.drop_after, hub.switches.drops, hub.switches.status_after_drop = int(size * 0.6), 1, 503
    with pytest.raises(DownloadInterrupted):
        pull_file(REPO, settings=settings)
    hub.switches.status_after_drop = None
    resumed = pull_file(REPO, settings=settings)
    saved = resumed.resumed_from / size
    assert resumed.fetched_bytes + resumed.resumed_from == size and hub.gets()[-1].sent < size

    # the same file again from scratch, with the CLI's progress line, timing the callbacks
    shutil.rmtree(os.path.join(os.environ["HF_HUB_CACHE"], "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF"))
    view, spent, calls = _PullView(io.StringIO()), [0.0], [0]

    def timed(progress):
        start = time.perf_counter()
        view(progress)
        spent[0] += time.perf_counter() - start
        calls[0] += 1

    start = time.perf_counter()
    fresh = pull_file(REPO, settings=settings, progress=timed)
    total = time.perf_counter() - start
    assert fresh.fetched_bytes == size and calls[0] >= 2
    print(f"\npull figures ({size / 1e6:.1f} MB over loopback): resuming after a drop at 60% fetched "
          f"{resumed.fetched_bytes / 1e6:.1f} MB instead of {size / 1e6:.1f} MB ({saved:.0%} saved); "
          f"a fresh pull took {total:.2f} s ({size / total / 1e6:.0f} MB/s with verification), "
          f"{calls[0]} progress callbacks took {spent[0] * 1000:.1f} ms in all ({spent[0] / total:.2%} of the pull)")
