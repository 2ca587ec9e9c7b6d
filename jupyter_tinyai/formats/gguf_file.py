"""GGUF files: the header, the metadata and the tensor index, read without loading a model.

Enough to list a model (architecture, context length, quantization, chat template), to plan
its load (per-layer tensor sizes, KV cache bytes per token), to check a LoRA adapter's tensor
shapes against its model, and to tell a good file from a bad one (not a GGUF, empty,
truncated, a value of the wrong type) before llama.cpp or MLX touches it::

    info = read_gguf(path)           # header and metadata, checked; parsed once per file version
    info.architecture, info.quantization, info.context_length
    for tensor in tensor_index(path):
        tensor.name, tensor.shape, tensor.type_name, tensor.nbytes

Tensor data is never read: only the header, the metadata and the tensor index, and no more
of those than :data:`MAX_HEADER_BYTES`; an array claiming more than :data:`MAX_ARRAY_ITEMS`
elements is refused by its count, before it is read. Metadata values are read through typed
accessors (:meth:`GGUFInfo.string`, :meth:`GGUFInfo.integer`, …): a value of the wrong type
is a :class:`ModelFileError` naming the file and the key, never a ``TypeError`` later.

Written by hand rather than with the ``gguf`` package's ``GGUFReader``: it reads only what a
listing needs (about 20 times faster on the bundled model, see ``bench/bench_gguf.py``) and
refuses damaged files with one line. Its type tables are checked against the ``gguf``
package's and against the ggml that llama.cpp runs (tests/formats/test_gguf_tables.py).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache

from ..errors import ModelFileError

MAGIC = b"GGUF"

#: most elements one metadata array may have (the largest vocabularies have about 262,000)
MAX_ARRAY_ITEMS = 1 << 20
#: most bytes of header (metadata and tensor index) read from one file
MAX_HEADER_BYTES = 1 << 26
#: arrays longer than this are skipped, not kept (only short ones, e.g. per-layer values, are used)
KEEP_ARRAY_ITEMS = 4096



class ValueType(IntEnum):
    """Metadata value types (the names of ``gguf.GGUFValueType``)."""

    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


#: the struct format of each fixed-size value type
SCALAR_FORMATS = {
    ValueType.UINT8: "<B", ValueType.INT8: "<b", ValueType.UINT16: "<H", ValueType.INT16: "<h",
    ValueType.UINT32: "<I", ValueType.INT32: "<i", ValueType.FLOAT32: "<f", ValueType.BOOL: "<?",
    ValueType.UINT64: "<Q", ValueType.INT64: "<q", ValueType.FLOAT64: "<d",
}
_SCALARS = {int(k): v for k, v in SCALAR_FORMATS.items()}  # plain ints: the hot path
_STRING, _ARRAY, _UINT32 = int(ValueType.STRING), int(ValueType.ARRAY), int(ValueType.UINT32)

#: ggml tensor type -> (name, elements per block, bytes per block), as ggml's type traits;
#: the numbers ggml retired (4, 5, 31-33, 36-38) are absent. A tensor of a type not listed
#: here skips the size checks.
TENSOR_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
    26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}
_BLOCKS = {ggml_type: (per_block, block_bytes) for ggml_type, (_, per_block, block_bytes) in TENSOR_TYPES.items()}

#: general.file_type -> the usual quantization label (``gguf.LlamaFileType`` without MOSTLY_/ALL_)
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0",
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

    # -- typed accessors: a wrong type is a ModelFileError naming the file and the key ------

    def _wrong(self, key: str, value, expected: str) -> ModelFileError:
        found = "an array" if isinstance(value, list) else f"a {_TYPE_NAMES.get(type(value), type(value).__name__)}"
        return ModelFileError(
            f"{self.path} is corrupt: its metadata {key!r} is {found} where {expected} is expected. "
            "Download the file again, or delete it."
        )

    def string(self, key: str, default: str = "") -> str:
        value = self.metadata.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._wrong(key, value, "a string")
        return value

    def integer(self, key: str, default: int = 0) -> int:
        value = self.metadata.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, value, "a whole number")
        return value

    def integers(self, key: str, default: int = 0) -> list[int]:
        """A whole number or an array of them (per-layer values), as a list."""
        value = self.metadata.get(key)
        if isinstance(value, list):
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise self._wrong(key, value, "whole numbers")
            return value
        return [self.integer(key, default)]

    # -- what a listing and a backend use --------------------------------------------------

    @property
    def architecture(self) -> str:
        return self.string("general.architecture")

    @property
    def context_length(self) -> int:
        return max(0, self.integer(f"{self.architecture}.context_length"))

    @property
    def quantization(self) -> str:
        if self.metadata.get("general.file_type") is None:
            return ""
        file_type = self.integer("general.file_type")
        return FILE_TYPES.get(file_type, f"type {file_type}")

    @property
    def chat_template(self) -> str:
        return self.string("tokenizer.chat_template")

    @property
    def is_adapter(self) -> bool:
        return self.string("general.type") == "adapter"

    @property
    def alignment(self) -> int:
        """Alignment of the tensor data: a power of two (llama.cpp refuses anything else)."""
        alignment = self.integer("general.alignment", 32)
        if alignment <= 0 or alignment & (alignment - 1):
            raise ModelFileError(
                f"{self.path} is corrupt: its metadata 'general.alignment' is {alignment}, not a power of two. "
                "Download the file again, or delete it."
            )
        return alignment

    def kv_bytes_per_token(self, cache_type: str = "f16") -> int:
        """KV cache bytes per token of context, keys and values stored as ``cache_type``
        (a key of KV_CACHE_TYPES), 0 when unknown."""
        arch = self.architecture
        layers = self.integer(f"{arch}.block_count")
        embd = self.integer(f"{arch}.embedding_length")
        heads = self.integer(f"{arch}.attention.head_count")
        kv_heads = max(self.integers(f"{arch}.attention.head_count_kv", heads) or [heads])
        if layers <= 0 or embd <= 0 or heads <= 0:
            return 0
        key = self.integer(f"{arch}.attention.key_length") or embd // heads
        value = self.integer(f"{arch}.attention.value_length") or key
        per_block, block_bytes = _BLOCKS[KV_CACHE_TYPES[cache_type]]
        return layers * max(kv_heads, 0) * (key + value) * block_bytes // per_block

    def check(self) -> None:
        """Read every value a listing or a backend uses: raise ModelFileError on a wrong type."""
        for name in ("architecture", "context_length", "quantization", "chat_template", "is_adapter", "alignment"):
            getattr(self, name)
        self.kv_bytes_per_token()


_TYPE_NAMES = {str: "string", int: "whole number", float: "number", bool: "boolean"}


class Reader:
    """Reads the parts of a GGUF header from an open file, refusing (with a ModelFileError
    naming the file) to go past its end or :data:`MAX_HEADER_BYTES`. ``pos`` is the offset
    in the file reached so far."""

    def __init__(self, handle, path: str, size: int):
        self.handle = handle
        self.path = path
        self.size = size
        self.limit = min(size, MAX_HEADER_BYTES)
        self.pos = handle.tell()

    def _room(self, n: int) -> None:
        """Refuse to read or skip ``n`` bytes past the end of the file or the header cap."""
        end = self.pos + n
        if end <= self.limit:
            self.pos = end
            return
        if end > self.size:
            raise ModelFileError(f"{self.path} is truncated: its header ends early. Download the file again.")
        raise ModelFileError(
            f"{self.path} is corrupt: its header is larger than {MAX_HEADER_BYTES >> 20} MB "
            "(metadata and tensor index of real models take a few MB). Download the file again, or delete it."
        )

    def read(self, n: int) -> bytes:
        self._room(n)
        data = self.handle.read(n)
        if len(data) != n:
            raise ModelFileError(
                f"{self.path} is truncated: its header ends early. Download the file again."
            )
        return data

    def skip(self, n: int) -> None:
        self._room(n)
        self.handle.seek(n, os.SEEK_CUR)

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self, keep: bool = True) -> str | None:
        length = self.unpack("<Q")
        if not keep and length > 256:  # short ones (tokens): reading beats seeking
            self.skip(length)
            return None
        data = self.read(length)
        return data.decode("utf-8", errors="replace") if keep else None

    def value(self, key: str, vtype: int, keep: bool = True):
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:  # a single string is always kept (tokenizer.ggml.model, .pre); ``keep`` is for arrays
            return self.string()
        if vtype == _ARRAY:
            return self.array(key, keep)
        raise ModelFileError(f"{self.path} is corrupt: its metadata {key!r} has the unknown type {vtype}.")

    def array(self, key: str, keep: bool):
        item_type, count = self.unpack("<I"), self.unpack("<Q")
        if count > MAX_ARRAY_ITEMS:
            raise ModelFileError(
                f"{self.path} is corrupt: its metadata {key!r} claims {count:,} elements "
                f"(at most {MAX_ARRAY_ITEMS:,} are read). Download the file again, or delete it."
            )
        keep = keep and count <= KEEP_ARRAY_ITEMS  # long arrays (token scores, ...) are skipped
        if item_type in _SCALARS:
            fmt = _SCALARS[item_type]
            if not keep:
                self.skip(struct.calcsize(fmt) * count)
                return None
            return list(struct.unpack(f"<{count}{fmt[1:]}", self.read(struct.calcsize(fmt) * count)))
        if item_type == _STRING:
            items = [self.string(keep) for _ in range(count)]
            return items if keep else None
        raise ModelFileError(
            f"{self.path} is corrupt: its metadata {key!r} is an array of type {item_type}, "
            "which GGUF readers (llama.cpp too) refuse."
        )

    def tensor(self) -> Tensor:
        """The next entry of the tensor index."""
        name = self.string()
        n_dims = self.unpack("<I")
        if n_dims > 8:
            raise ModelFileError(f"{self.path} is corrupt: a tensor claims {n_dims} dimensions.")
        shape = struct.unpack(f"<{n_dims}Q", self.read(8 * n_dims))
        ggml_type, offset = struct.unpack("<IQ", self.read(12))
        return Tensor(name, shape, ggml_type, offset)


def read_gguf(path: str) -> GGUFInfo:
    """Parse the header of ``path``; raise ModelFileError with what is wrong and what to do.

    Parsed once per file version (path, size, modification time): listing models and
    loading one read a header once, not at every call; a bad file is refused once too.
    """
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror}.") from exc
    info, error = _read_gguf(path, stat.st_size, stat.st_mtime_ns)
    if error:
        raise ModelFileError(error)
    return info


@lru_cache(maxsize=256)
def _read_gguf(path: str, size: int, _mtime_ns: int) -> tuple[GGUFInfo | None, str]:
    """(info, "") or (None, what is wrong with the file)."""
    try:
        return _parse(path, size), ""
    except ModelFileError as exc:
        return None, str(exc)


def _parse(path: str, size: int) -> GGUFInfo:
    if size == 0:
        raise ModelFileError(f"{path} is empty (0 bytes). Download the model again.")
    try:
        handle = open(path, "rb")  # noqa: SIM115 - opened apart from `with`: "cannot read" is its own message
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror}.") from exc
    with handle:
        head = handle.read(4)
        if head != MAGIC:
            hint = " It looks like a web page: the download saved an HTML page instead of the model." if head.lstrip()[:1] == b"<" else ""
            raise ModelFileError(f"{path} is not a GGUF model file (it does not start with 'GGUF').{hint} Download the .gguf file again.")
        reader = Reader(handle, path, size)
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
            if key == "general.alignment" and vtype != _UINT32:  # llama.cpp aborts on any other type
                raise ModelFileError(
                    f"{path} is corrupt: its metadata 'general.alignment' is not a uint32. "
                    "Download the file again, or delete it."
                )
            value = reader.value(key, vtype, keep=not key.startswith("tokenizer.ggml."))
            if value is not None:
                metadata[key] = value
        info = GGUFInfo(path=path, version=version, metadata=metadata, n_tensors=n_tensors,
                        index_offset=reader.pos)
        info.check()
        expected = _expected_size(reader, n_tensors, info.alignment)
    info.expected_size = expected
    if expected is not None and size < expected:
        raise ModelFileError(
            f"{path} is truncated: it has {size:,} bytes but its tensors need {expected:,}. "
            "The download did not finish; download the file again."
        )
    return info


def _expected_size(reader: Reader, n_tensors: int, alignment: int) -> int | None:
    """Bytes the file needs for its tensor data (None when a tensor's type is unknown)."""
    end, known = 0, True
    for _ in range(n_tensors):
        tensor = reader.tensor()
        nbytes = tensor.nbytes
        if nbytes is None:
            known = False
            continue
        end = max(end, tensor.offset + nbytes)
    data_start = -(-reader.pos // alignment) * alignment
    return data_start + end if known else None


@dataclass(frozen=True)
class Tensor:
    """One entry of a GGUF's tensor index."""

    name: str
    shape: tuple  # ggml order: ne[0] (the row length) first, as gguf.GGUFReader's ``shape``
    ggml_type: int  # a key of TENSOR_TYPES
    offset: int  # from the start of the tensor data

    @property
    def type_name(self) -> str:
        """"Q4_1", "F32", …; "type N" for a type this reader does not know."""
        known = TENSOR_TYPES.get(self.ggml_type)
        return known[0] if known else f"type {self.ggml_type}"

    @property
    def nbytes(self) -> int | None:
        """Bytes of its data; None for a type this reader does not know."""
        block = _BLOCKS.get(self.ggml_type)
        if block is None:
            return None
        elements = 1
        for dim in self.shape:
            elements *= dim
        return elements // block[0] * block[1]


def tensor_index(path: str) -> list[Tensor]:
    """The tensor index of the GGUF at ``path`` (names, shapes, types, offsets); no tensor
    data is read. The file is checked by :func:`read_gguf` first."""
    info = read_gguf(path)
    stat = os.stat(path)
    return list(_tensor_index(path, stat.st_size, stat.st_mtime_ns, info.index_offset, info.n_tensors))


@lru_cache(maxsize=16)
def _tensor_index(path: str, size: int, _mtime_ns: int, offset: int, n_tensors: int) -> tuple:
    with open(path, "rb") as handle:
        handle.seek(offset)
        reader = Reader(handle, path, size)
        return tuple(reader.tensor() for _ in range(n_tensors))
