import pytest
from helpers.gguf_files import tiny_model_metadata, write_gguf


@pytest.fixture
def make_gguf():
    def make(path, **kwargs):
        metadata = kwargs.pop("metadata", None) or tiny_model_metadata(**kwargs)
        return write_gguf(path, metadata)

    return make
