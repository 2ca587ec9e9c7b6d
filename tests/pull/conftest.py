"""A local Hub (tests/helpers/fake_hub.py) behind HF_ENDPOINT, and small GGUF repos on it."""

import pytest
from helpers.fake_hub import FakeHub
from helpers.gguf_files import tiny_model_metadata, write_gguf

from jupyter_tinyai.models import download


@pytest.fixture
def hub(monkeypatch):
    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(download, "RETRY_WAITS_S", (0.01, 0.01, 0.01))
    yield server
    server.stop()


@pytest.fixture
def gguf_bytes(tmp_path):
    """bytes of a small valid GGUF: ``gguf_bytes("name", data_bytes=...)``."""
    def make(name="tiny", data_bytes=0, file_type=15):
        path = write_gguf(tmp_path / f"{name}-{file_type}-{data_bytes}.gguf",
                          tiny_model_metadata(name=name, file_type=file_type), data_bytes=data_bytes)
        with open(path, "rb") as handle:
            return handle.read()
    return make
