"""The MLX backend on the real bundled GGUF (mlx[cpu] on Linux: about 5 tokens/s, so answers
stay short); what it does as llama.cpp does is in test_conformance.py."""

import dataclasses
import sys
import uuid

import pytest

from backends.mlx_required import require_mlx
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import InsufficientMemory, ModelFileError
from jupyter_tinyai.types import Stats

PARIS = "What is the capital of France?"


def cid():
    return uuid.uuid4().hex


@pytest.fixture(scope="module")
def mlx_engine():
    require_mlx()
    engine = Engine(load_settings(host="inprocess", backend="mlx", n_ctx=512, max_tokens=64))
    engine.load()
    yield engine
    engine.unload()


@pytest.fixture(scope="module")
def paris(mlx_engine):
    """The greedy answer to PARIS through MLX, computed once."""
    return mlx_engine.ask(PARIS, conversation=cid(), max_tokens=12)


@pytest.mark.model
def test_bundled_model_answers_paris(mlx_engine, paris):
    text, stats = paris
    assert "Paris" in text
    assert mlx_engine.status()["backend"] == "mlx"
    where = "MLX (Metal)" if sys.platform == "darwin" else "MLX (CPU)"  # Linux: the mlx[cpu] build
    assert mlx_engine.status()["placement"] == stats.placement == where
    assert stats.backend == "mlx" and stats.model.startswith("mlx:SmolLM2")
    assert stats.finish_reason == "stop"
    assert stats.prompt_tokens > 20 and 0 < stats.generated_tokens <= 12
    assert stats.ttft_s > 0 and stats.total_s >= stats.ttft_s and stats.tokens_per_s > 0


@pytest.mark.model
def test_stats_carry_the_same_fields_as_llamacpp(paris, engine):
    _, mlx_stats = paris
    _, llama_stats = engine.ask("Say hi.", conversation=cid(), max_tokens=4)
    assert set(mlx_stats.to_dict()) == set(llama_stats.to_dict()) == {f.name for f in dataclasses.fields(Stats)}


@pytest.mark.model
def test_same_greedy_prompt_gives_the_same_first_tokens_on_both_backends(mlx_engine, paris, engine):
    """Tolerance: both backends run the same Q4_1 weights with different kernels (logits differ by
    about 1e-3 relative), so greedy decoding agrees on at least the first 5 tokens here."""
    mlx_text, _ = paris
    llama_text, _ = engine.ask(PARIS, conversation=cid(), max_tokens=12)
    tokenizer = mlx_engine._backend._tokenizer
    a, b = tokenizer.encode(mlx_text, add_special_tokens=False), tokenizer.encode(llama_text, add_special_tokens=False)
    common = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    assert common >= min(5, len(a), len(b)), (mlx_text, llama_text)


def test_memory_check_against_the_recommended_working_set(monkeypatch, model_path):
    require_mlx()
    import mlx.core as mx

    from jupyter_tinyai.backends.base import LoadSettings
    from jupyter_tinyai.backends.mlx import MLXBackend
    from jupyter_tinyai.models.describe import describe_path

    spec = describe_path(model_path, "path", "mlx")
    backend = MLXBackend(spec, LoadSettings(n_ctx=512))
    assert backend.estimate_bytes() > spec.size_bytes
    monkeypatch.setattr(mx, "device_info", lambda: {"max_recommended_working_set_size": 50_000_000})
    with pytest.raises(InsufficientMemory, match="recommended working set"):
        backend.load()
    assert backend._model is None


def test_gguf_of_an_architecture_mlx_cannot_run():
    require_mlx()
    from jupyter_tinyai.backends.mlx_gguf import model_config

    with pytest.raises(ModelFileError, match="llama.cpp backend"):
        model_config({"general.architecture": "gemma3"}, {})


def write_tiny_gguf(path, arch):
    """A tiny random F32 model of ``arch`` with a byte-level BPE vocabulary (gguf package)."""
    import gguf
    import numpy as np
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    rng = np.random.default_rng(1)
    d, layers, heads, kv_heads, ff = 64, 2, 4, 2, 128
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [bytes_to_unicode()[b] for b in range(256)] + ["ab"]
    writer = gguf.GGUFWriter(str(path), arch=arch)
    writer.add_context_length(512)
    writer.add_embedding_length(d)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_file_type(0)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([3, 3, 3] + [1] * 257)
    writer.add_token_merges(["a b"])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)

    def tensor(name, *shape):
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.2).astype(np.float32))

    tensor("token_embd.weight", len(tokens), d)
    writer.add_tensor("output_norm.weight", np.ones(d, np.float32))
    kv = kv_heads * d // heads
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(d, np.float32))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(d, np.float32))
        tensor(f"blk.{i}.attn_q.weight", d, d)
        tensor(f"blk.{i}.attn_k.weight", kv, d)
        tensor(f"blk.{i}.attn_v.weight", kv, d)
        tensor(f"blk.{i}.attn_output.weight", d, d)
        if arch == "qwen2":
            tensor(f"blk.{i}.attn_q.bias", d)
            tensor(f"blk.{i}.attn_k.bias", kv)
            tensor(f"blk.{i}.attn_v.bias", kv)
        tensor(f"blk.{i}.ffn_gate.weight", ff, d)
        tensor(f"blk.{i}.ffn_up.weight", ff, d)
        tensor(f"blk.{i}.ffn_down.weight", d, ff)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return str(path)


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_gguf_read_by_mlx_computes_what_llamacpp_computes(tmp_path, arch):
    """Every supported architecture's tensor mapping and config: the logits of a tiny random
    F32 model agree with llama.cpp's at every position (float32 rounding only)."""
    require_mlx()
    import llama_cpp
    import mlx.core as mx
    import numpy as np

    from jupyter_tinyai.backends import mlx_gguf

    path = write_tiny_gguf(tmp_path / f"tiny-{arch}.gguf", arch)
    model, config, _ = mlx_gguf.load_model(path)
    assert config["model_type"] == arch
    ids = [5, 40, 77, 100, 3, 9, 200, 150, 20, 60]
    llm = llama_cpp.Llama(model_path=path, verbose=False, n_ctx=64, logits_all=True)
    try:
        llm.eval(ids)
        theirs = np.array(llm.scores[: len(ids)])
    finally:
        llm.close()
    ours = np.array(model(mx.array([ids]))[0])
    assert np.abs(ours - theirs).max() < 0.05 * np.abs(theirs).max()
    assert (ours.argmax(-1) == theirs.argmax(-1)).all()


@pytest.mark.model
def test_tokenizer_from_gguf_metadata_matches_llamacpp(mlx_engine, engine):
    texts = [
        "<|im_start|>user\nWhat is 12345 + 0.5?<|im_end|>\n",
        "naïve café — 東京 🙂 don't   spaces\t\ttabs\n\n",
        "def f(x):\n    return x**2  # 100%",
    ]
    ours = mlx_engine._backend._tokenizer
    llm = engine._backend._llm
    for text in texts:
        assert ours.encode(text, add_special_tokens=False) == llm.tokenize(text.encode(), add_bos=False, special=True), text
        ids = ours.encode(text, add_special_tokens=False)
        assert ours.decode(ids) == text
