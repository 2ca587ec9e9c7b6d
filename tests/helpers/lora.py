"""A LoRA adapter for the bundled model in llama.cpp's GGUF format, written in the test
with the `gguf` package (shaped after the model's own tensors, read from its tensor index)."""

from __future__ import annotations

import numpy as np


def write_gguf_lora(path, model_path, scale=0.3, rank=8, zero_b=False, wrong_shape=False):
    """A LoRA adapter in llama.cpp's format: general.type=adapter, adapter.type=lora,
    adapter.lora.alpha, and for each target W (ggml dims [n_in, n_out]) tensors
    W.lora_a with dims [n_in, rank] and W.lora_b with dims [rank, n_out]."""
    import gguf

    from jupyter_tinyai.formats.gguf_file import tensor_index

    shapes = {t.name: list(t.shape) for t in tensor_index(model_path)}
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(rank))
    rng = np.random.default_rng(0)
    layer = 0
    while f"blk.{layer}.ffn_down.weight" in shapes:
        name = f"blk.{layer}.ffn_down.weight"
        n_in, n_out = shapes[name]
        if wrong_shape:
            n_in += 32
        a = rng.standard_normal((rank, n_in)) * scale  # numpy order is the reverse of ggml's dims
        b = np.zeros((n_out, rank)) if zero_b else rng.standard_normal((n_out, rank)) * scale
        writer.add_tensor(name + ".lora_a", a.astype(np.float32))
        writer.add_tensor(name + ".lora_b", b.astype(np.float32))
        layer += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return str(path)
