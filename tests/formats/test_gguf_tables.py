"""The hand-written GGUF reader agrees with the `gguf` package (llama.cpp's own Python
reader and writer) and with the ggml library llama.cpp runs: value types, tensor types with
their block sizes, file types, and the tensor index of the bundled model."""

from __future__ import annotations

import ctypes

import gguf
import pytest

from jupyter_tinyai.formats.gguf_file import (
    FILE_TYPES,
    SCALAR_FORMATS,
    TENSOR_TYPES,
    ValueType,
    read_gguf,
    tensor_index,
)

#: gguf-py 0.19 lists Q8_1 as (32, 40): float scales of an old ggml. ggml's block_q8_1 has
#: two f16 scales and 32 int8 quants, 36 bytes (checked against ggml below); no GGUF stores Q8_1.
GGUF_PY_STALE = {gguf.GGMLQuantizationType.Q8_1}


def test_value_types_are_gguf_value_types():
    assert {t.name: t.value for t in ValueType} == {t.name: t.value for t in gguf.GGUFValueType}
    for vtype, fmt in SCALAR_FORMATS.items():
        assert gguf.GGUFValueType(vtype).name == vtype.name
        assert fmt.startswith("<") and len(fmt) == 2
    assert set(SCALAR_FORMATS) == set(ValueType) - {ValueType.STRING, ValueType.ARRAY}


def test_tensor_types_and_block_sizes_are_ggufs():
    theirs = {int(t): (t.name, *gguf.GGML_QUANT_SIZES[t]) for t in gguf.GGMLQuantizationType if t in gguf.GGML_QUANT_SIZES}
    assert set(TENSOR_TYPES) == set(theirs), "a ggml type is missing here or unknown to gguf"
    for ggml_type, (name, per_block, block_bytes) in TENSOR_TYPES.items():
        assert name == theirs[ggml_type][0]
        if ggml_type not in GGUF_PY_STALE:
            assert (per_block, block_bytes) == theirs[ggml_type][1:], name


def test_tensor_types_and_block_sizes_are_those_of_the_ggml_llama_cpp_runs():
    from llama_cpp._ggml import libggml  # the ggml library llama-cpp-python loads

    libggml.ggml_type_name.restype, libggml.ggml_type_name.argtypes = ctypes.c_char_p, [ctypes.c_int]
    libggml.ggml_blck_size.restype, libggml.ggml_blck_size.argtypes = ctypes.c_int64, [ctypes.c_int]
    libggml.ggml_type_size.restype, libggml.ggml_type_size.argtypes = ctypes.c_size_t, [ctypes.c_int]
    for ggml_type, (name, per_block, block_bytes) in TENSOR_TYPES.items():
        assert libggml.ggml_type_name(ggml_type).decode().upper() == name
        assert (libggml.ggml_blck_size(ggml_type), libggml.ggml_type_size(ggml_type)) == (per_block, block_bytes), name


def test_file_types_are_llama_file_types():
    theirs = {t.value: t.name.removeprefix("MOSTLY_").removeprefix("ALL_") for t in gguf.LlamaFileType
              if t is not gguf.LlamaFileType.GUESSED}
    assert theirs == FILE_TYPES


@pytest.mark.parametrize("what", ["metadata", "tensors"])
def test_the_bundled_model_reads_as_gguf_reads_it(model_path, what):
    theirs = gguf.GGUFReader(model_path)
    if what == "tensors":
        ours = [(t.name, list(t.shape), t.ggml_type, t.nbytes) for t in tensor_index(model_path)]
        assert ours == [(t.name, [int(d) for d in t.shape], int(t.tensor_type), int(t.n_bytes)) for t in theirs.tensors]
        return
    metadata = read_gguf(model_path).metadata
    for field in theirs.fields.values():
        if field.name.startswith("GGUF.") or field.name not in metadata:
            continue  # the header's own counts; long arrays (the vocabulary) are not kept
        value = field.contents()
        assert metadata[field.name] == pytest.approx(value) if isinstance(value, float) else metadata[field.name] == value, field.name
    assert metadata["tokenizer.ggml.model"] == theirs.fields["tokenizer.ggml.model"].contents()
