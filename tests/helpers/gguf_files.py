"""Small GGUF files made in the test: a valid header and metadata, no real weights."""

from __future__ import annotations

import struct
from dataclasses import dataclass

UINT32, FLOAT32, STRING, ARRAY = 4, 6, 8, 9


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
    if isinstance(value, float):
        return struct.pack("<If", FLOAT32, value)
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


INT32 = 5
CONTROL, NORMAL = 3, 1


def _byte_level_alphabet() -> list[str]:
    """GPT-2's byte-level BPE alphabet: one printable character for each of the 256 bytes."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def vocab_metadata(special: list[str], words: list[str] = ()) -> dict:
    """A byte-level BPE vocabulary llama.cpp loads (``vocab_only``): the control tokens
    ``special`` first (id 0 is also BOS/EOS), then the 256 bytes, then ``words`` (each a
    token of its own, merged from its bytes). Text tokenizes byte by byte except ``words``."""
    alphabet = _byte_level_alphabet()
    tokens, merges = list(special) + alphabet, []
    for word in words:
        encoded = "".join(alphabet[b] for b in word.encode())
        for end in range(2, len(encoded) + 1):
            if encoded[:end] not in tokens:
                tokens.append(encoded[:end])
                merges.append(f"{encoded[: end - 1]} {encoded[end - 1]}")
    types = [CONTROL] * len(special) + [NORMAL] * (len(tokens) - len(special))
    return {
        "llama.feed_forward_length": 128,
        "llama.attention.layer_norm_rms_epsilon": 1e-5,
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "default",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": RawArray(INT32, len(types), struct.pack(f"<{len(types)}i", *types)),
        "tokenizer.ggml.merges": merges or ["Ġ Ġ"],
        "tokenizer.ggml.bos_token_id": 0,
        "tokenizer.ggml.eos_token_id": 0,
    }
