"""Small GGUF files made in the test: a valid header and metadata, no real weights."""

from __future__ import annotations

import struct
from dataclasses import dataclass

UINT32, STRING, ARRAY = 4, 8, 9


@dataclass
class RawArray:
    """An array value written as given: its element type, the element count it claims and
    the bytes that follow (fewer than the count needs, for a corrupt file)."""

    item_type: int
    count: int
    payload: bytes = b""


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _value(value) -> bytes:
    if isinstance(value, bool):
        return struct.pack("<I?", 7, value)
    if isinstance(value, int):
        return struct.pack("<II", 4, value)
    if isinstance(value, str):
        return struct.pack("<I", STRING) + _string(value)
    if isinstance(value, RawArray):
        return struct.pack("<IIQ", ARRAY, value.item_type, value.count) + value.payload
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return struct.pack("<IIQ", ARRAY, STRING, len(value)) + b"".join(_string(v) for v in value)
        return struct.pack("<IIQ", ARRAY, UINT32, len(value)) + struct.pack(f"<{len(value)}I", *value)
    raise TypeError(value)


def write_gguf(path, metadata: dict, tensors=(), data_bytes: int | None = None) -> str:
    """A GGUF v3 file; ``tensors`` are (name, dims, ggml_type, offset)."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)))
    for key, value in metadata.items():
        out += _string(key) + _value(value)
    for name, dims, ggml_type, offset in tensors:
        out += _string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, offset)
    out += b"\0" * (-len(out) % 32)
    if data_bytes:
        out += b"\0" * data_bytes
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return str(path)


def tiny_model_metadata(name="tiny", context=2048, file_type=15):
    return {
        "general.architecture": "llama",
        "general.name": name,
        "general.file_type": file_type,
        "llama.context_length": context,
        "llama.block_count": 2,
        "llama.embedding_length": 64,
        "llama.attention.head_count": 4,
    }
