import os
import shutil

import pytest
from helpers.gguf_files import tiny_model_metadata, write_gguf

from jupyter_tinyai.errors import ModelFileError
from jupyter_tinyai.formats.gguf_file import read_gguf


def test_bundled_model_header(model_path):
    info = read_gguf(model_path)
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert "<|im_start|>" in info.chat_template
    assert info.expected_size and info.expected_size <= os.path.getsize(model_path)
    assert info.kv_bytes_per_token() > 0


def test_html_page_saved_as_gguf(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_text("<!DOCTYPE html><html><body>Not found</body></html>")
    with pytest.raises(ModelFileError, match="not a GGUF model file.*web page"):
        read_gguf(str(path))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        read_gguf(str(path))


def test_truncated_in_the_header(tmp_path, model_path):
    path = tmp_path / "cut.gguf"
    with open(model_path, "rb") as src:
        path.write_bytes(src.read(1000))
    with pytest.raises(ModelFileError, match="truncated"):
        read_gguf(str(path))


def test_truncated_in_the_tensor_data(tmp_path, model_path):
    path = tmp_path / "half.gguf"
    with open(model_path, "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, length=1 << 20)
        dst.truncate(os.path.getsize(model_path) // 2)
    with pytest.raises(ModelFileError, match=r"truncated: it has [\d,]+ bytes but its tensors need"):
        read_gguf(str(path))


def test_unsupported_version(tmp_path):
    path = tmp_path / "v9.gguf"
    path.write_bytes(b"GGUF" + (9).to_bytes(4, "little") + b"\0" * 16)
    with pytest.raises(ModelFileError, match="version 9"):
        read_gguf(str(path))


def test_tensor_sizes_are_checked(tmp_path):
    meta = tiny_model_metadata()
    # one Q4_1 tensor of 64x64: 64*64/32 blocks of 20 bytes = 2560 bytes of data
    complete = write_gguf(tmp_path / "ok.gguf", meta, [("w", (64, 64), 3, 0)], data_bytes=2560)
    assert read_gguf(complete).expected_size == os.path.getsize(complete)
    short = write_gguf(tmp_path / "short.gguf", meta, [("w", (64, 64), 3, 0)], data_bytes=100)
    with pytest.raises(ModelFileError, match="truncated"):
        read_gguf(short)


def test_a_header_is_parsed_once_per_file_version(tmp_path):
    path = tmp_path / "m.gguf"
    write_gguf(path, tiny_model_metadata(context=1024))
    first = read_gguf(str(path))
    assert read_gguf(str(path)) is first
    write_gguf(path, tiny_model_metadata(context=4096, name="a-longer-name"))
    assert read_gguf(str(path)).context_length == 4096


def test_tokenizer_strings_are_kept_and_its_long_arrays_skipped(tmp_path, model_path):
    # MLX's choice reads tokenizer.ggml.model from the header: only long arrays are left out
    info = read_gguf(model_path)
    assert info.metadata["tokenizer.ggml.model"] == "gpt2"
    assert "tokenizer.ggml.tokens" not in info.metadata and "tokenizer.ggml.merges" not in info.metadata
    small = write_gguf(tmp_path / "t.gguf", {**tiny_model_metadata(), "tokenizer.ggml.model": "llama",
                                              "tokenizer.ggml.tokens": ["a", "b"]})
    assert read_gguf(small).metadata["tokenizer.ggml.model"] == "llama"
