"""Read a GGUF file's header and metadata without loading it.

Enough to list a model (architecture, context length, quantization, chat template) and
to tell a good file from a bad one (not a GGUF, empty, truncated) before llama.cpp or MLX
touches it. Tensor data is never read: only the header, the metadata and the tensor index.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from functools import lru_cache

from ..errors import ModelFileError

MAGIC = b"GGUF"

# metadata value types
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL, _STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = range(13)
_SCALARS = {
    _UINT8: "<B", _INT8: "<b", _UINT16: "<H", _INT16: "<h", _UINT32: "<I", _INT32: "<i",
    _FLOAT32: "<f", _BOOL: "<?", _UINT64: "<Q", _INT64: "<q", _FLOAT64: "<d",
}

# ggml tensor type -> (elements per block, bytes per block); unknown types skip the size check
_TYPE_SIZES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
}

# general.file_type -> the usual quantization label
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
}


#: KV cache types llama.cpp stores (c.TinyAI.kv_cache_type) -> ggml tensor type
KV_CACHE_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}


@dataclass
class GGUFInfo:
    path: str
    version: int
    metadata: dict = field(default_factory=dict)
    n_tensors: int = 0
    expected_size: int | None = None  # bytes the tensor data needs, when all types are known
    index_offset: int = 0  # where the tensor index starts in the file (after the metadata)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def context_length(self) -> int:
        return int(self.metadata.get(f"{self.architecture}.context_length", 0) or 0)

    @property
    def quantization(self) -> str:
        file_type = self.metadata.get("general.file_type")
        return FILE_TYPES.get(file_type, f"type {file_type}") if file_type is not None else ""

    @property
    def chat_template(self) -> str:
        return str(self.metadata.get("tokenizer.chat_template", "") or "")

    @property
    def is_adapter(self) -> bool:
        return self.metadata.get("general.type") == "adapter"

    def kv_bytes_per_token(self, cache_type: str = "f16") -> int:
        """KV cache bytes per token of context, keys and values stored as ``cache_type``
        (a key of KV_CACHE_TYPES), 0 when unknown."""
        arch, md = self.architecture, self.metadata
        layers = int(md.get(f"{arch}.block_count", 0) or 0)
        embd = int(md.get(f"{arch}.embedding_length", 0) or 0)
        heads = int(md.get(f"{arch}.attention.head_count", 0) or 0)
        kv_heads = md.get(f"{arch}.attention.head_count_kv", heads)
        if isinstance(kv_heads, list):
            kv_heads = max(kv_heads) if kv_heads else heads
        if not (layers and embd and heads):
            return 0
        key = int(md.get(f"{arch}.attention.key_length", 0) or embd // heads)
        value = int(md.get(f"{arch}.attention.value_length", 0) or key)
        per_block, block_bytes = _TYPE_SIZES[KV_CACHE_TYPES[cache_type]]
        return layers * int(kv_heads) * (key + value) * block_bytes // per_block


class _Reader:
    def __init__(self, handle, path: str):
        self.handle = handle
        self.path = path

    def read(self, n: int) -> bytes:
        data = self.handle.read(n)
        if len(data) != n:
            raise ModelFileError(
                f"{self.path} is truncated: its header ends early. Download the file again."
            )
        return data

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.unpack("<Q")
        if length > 1 << 26:
            raise ModelFileError(f"{self.path} is corrupt: a metadata string claims {length} bytes.")
        return self.read(length).decode("utf-8", errors="replace")

    def value(self, vtype: int, keep: bool = True):
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type, count = self.unpack("<I"), self.unpack("<Q")
            if item_type in _SCALARS and not keep:  # skip big arrays (token scores, ...)
                self.handle.seek(struct.calcsize(_SCALARS[item_type]) * count, os.SEEK_CUR)
                return None
            items = [self.value(item_type, keep) for _ in range(count)]
            return items if keep else None
        raise ModelFileError(f"{self.path} is corrupt: unknown metadata type {vtype}.")


def read_gguf(path: str) -> GGUFInfo:
    """Parse the header of ``path``; raise ModelFileError with what is wrong and what to do.

    Parsed once per file version (path, size, modification time): listing models and
    loading one read a header once, not at every call.
    """
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror}.") from exc
    return _read_gguf(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _read_gguf(path: str, size: int, _mtime_ns: int) -> GGUFInfo:
    if size == 0:
        raise ModelFileError(f"{path} is empty (0 bytes). Download the model again.")
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head != MAGIC:
            hint = " It looks like a web page: the download saved an HTML page instead of the model." if head.lstrip()[:1] == b"<" else ""
            raise ModelFileError(f"{path} is not a GGUF model file (it does not start with 'GGUF').{hint} Download the .gguf file again.")
        reader = _Reader(handle, path)
        version = reader.unpack("<I")
        if version not in (2, 3):
            raise ModelFileError(f"{path} is GGUF version {version}, which is not supported (2 and 3 are).")
        n_tensors, n_kv = reader.unpack("<Q"), reader.unpack("<Q")
        if n_kv > 1 << 20 or n_tensors > 1 << 24:
            raise ModelFileError(f"{path} is corrupt: its header claims {n_kv} metadata keys and {n_tensors} tensors.")
        metadata = {}
        for _ in range(n_kv):
            key = reader.string()
            vtype = reader.unpack("<I")
            value = reader.value(vtype, keep=not key.startswith("tokenizer.ggml."))
            if value is not None:
                metadata[key] = value
        index_offset = handle.tell()
        expected = _expected_size(reader, n_tensors, metadata)
    info = GGUFInfo(path=path, version=version, metadata=metadata, n_tensors=n_tensors, expected_size=expected,
                    index_offset=index_offset)
    if expected is not None and size < expected:
        raise ModelFileError(
            f"{path} is truncated: it has {size:,} bytes but its tensors need {expected:,}. "
            "The download did not finish; download the file again."
        )
    return info


def _expected_size(reader: _Reader, n_tensors: int, metadata: dict) -> int | None:
    end, known = 0, True
    for _ in range(n_tensors):
        reader.string()  # name
        n_dims = reader.unpack("<I")
        if n_dims > 8:
            raise ModelFileError(f"{reader.path} is corrupt: a tensor claims {n_dims} dimensions.")
        elements = 1
        for _ in range(n_dims):
            elements *= reader.unpack("<Q")
        ggml_type, offset = reader.unpack("<I"), reader.unpack("<Q")
        block = _TYPE_SIZES.get(ggml_type)
        if block is None:
            known = False
            continue
        end = max(end, offset + elements // block[0] * block[1])
    alignment = int(metadata.get("general.alignment", 32) or 32)
    data_start = -(-reader.handle.tell() // alignment) * alignment
    return data_start + end if known else None


@dataclass(frozen=True)
class Tensor:
    """One entry of a GGUF's tensor index."""

    name: str
    dims: tuple
    ggml_type: int
    offset: int

    @property
    def nbytes(self) -> int | None:
        """Bytes of its data; None for a type this reader does not know."""
        block = _TYPE_SIZES.get(self.ggml_type)
        if block is None:
            return None
        elements = 1
        for dim in self.dims:
            elements *= dim
        return elements // block[0] * block[1]


def tensor_index(path: str) -> list[Tensor]:
    """The tensor index of the GGUF at ``path`` (names, ggml dims with ne[0] first, types,
    offsets); no tensor data is read. The file is checked by :func:`read_gguf` first."""
    info = read_gguf(path)
    stat = os.stat(path)
    return list(_tensor_index(path, stat.st_size, stat.st_mtime_ns, info.index_offset, info.n_tensors))


@lru_cache(maxsize=16)
def _tensor_index(path: str, _size: int, _mtime_ns: int, offset: int, n_tensors: int) -> tuple:
    with open(path, "rb") as handle:
        handle.seek(offset)
        reader = _Reader(handle, path)
        tensors = []
        for _ in range(n_tensors):
            name = reader.string()
            dims = tuple(reader.unpack("<Q") for _ in range(reader.unpack("<I")))
            tensors.append(Tensor(name, dims, reader.unpack("<I"), reader.unpack("<Q")))
    return tuple(tensors)
