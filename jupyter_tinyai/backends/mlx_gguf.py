"""Run a GGUF file on MLX: the model config, the weights and the tokenizer from the file itself.

``mx.load(path, return_metadata=True)`` reads GGUF natively: Q4_0, Q4_1 and Q8_0 tensors come
back as MLX affine-quantized weights (``weight``/``scales``/``biases``, group size 32), other
types as float16. This module renames the tensors to mlx-lm's module names, quantizes each
module the way its tensors are, and builds a fast tokenizer from the vocabulary and merges
stored in the metadata. mlx-lm (0.32) has GGUF *export* only (``mlx_lm/gguf.py``), no loader.

Supported: the ``llama`` architecture (Llama, SmolLM, Mistral-as-llama, TinyLlama …) and
``qwen2``, with byte-level BPE vocabularies (``tokenizer.ggml.model == "gpt2"``). Other files
raise a ModelFileError that says to use the llama.cpp backend for them.
"""

from __future__ import annotations

import re

from ..errors import ModelFileError

ARCHITECTURES = ("llama", "qwen2")

# GGUF tensor name (after "blk.N.") -> mlx-lm module path (after "model.layers.N.")
_LAYER_NAMES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
_TOP_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}

# llama.cpp's pre-tokenizer regexes (llama-vocab.cpp), by ``tokenizer.ggml.pre``
_GPT2_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"""
_LLAMA3_SPLIT = (
    r"""(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
_QWEN2_SPLIT = (
    r"""(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
#: pre name -> (split each digit first, main regex)
PRE_TOKENIZERS = {
    "default": (False, _GPT2_SPLIT),
    "gpt2": (False, _GPT2_SPLIT),
    "smollm": (True, _GPT2_SPLIT),
    "starcoder": (True, _GPT2_SPLIT),
    "refact": (True, _GPT2_SPLIT),
    "llama-bpe": (False, _LLAMA3_SPLIT),
    "llama3": (False, _LLAMA3_SPLIT),
    "qwen2": (False, _QWEN2_SPLIT),
}

#: token texts llama.cpp also treats as end of generation
EOG_TEXTS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|end|>", "<end_of_turn>", "<|eom_id|>")


def _value(metadata: dict, key: str, default=None):
    """A metadata value as plain Python (mx.load returns scalars as 0-d mx.arrays)."""
    value = metadata.get(key, default)
    if hasattr(value, "tolist"):  # an mx.array: a 0-d one becomes a scalar
        return value.tolist()
    return value


def refusal(metadata: dict) -> str | None:
    """Why MLX cannot run a GGUF with this metadata (None: it can). Read from the header alone,
    so ``auto`` sends such files to llama.cpp when listing them, before anything is loaded."""
    arch = _value(metadata, "general.architecture", "")
    if arch not in ARCHITECTURES:
        return (
            f"MLX cannot run GGUF files of the {arch or 'unknown'!r} architecture here (it can: "
            f"{', '.join(ARCHITECTURES)}). Use the llama.cpp backend (--backend llamacpp, "
            "c.TinyAI.backend = 'llamacpp') or an MLX model folder of the same model."
        )
    if isinstance(_value(metadata, f"{arch}.attention.head_count_kv"), list):
        return "this GGUF has a per-layer number of KV heads, which the MLX loader does not support: use --backend llamacpp."
    kind = _value(metadata, "tokenizer.ggml.model", "")
    if kind != "gpt2":
        return (
            f"the MLX backend reads byte-level BPE (gpt2) vocabularies from GGUF files, and this file's is "
            f"{kind!r}. Use the llama.cpp backend for it: --backend llamacpp."
        )
    return None


def model_config(metadata: dict, weights: dict) -> dict:
    """An mlx-lm config dict (as in an MLX folder's config.json) from GGUF metadata."""
    reason = refusal(metadata)
    if reason:
        raise ModelFileError(reason)
    arch = _value(metadata, "general.architecture", "")

    def get(key, default=None):
        return _value(metadata, f"{arch}.{key}", default)

    heads = int(get("attention.head_count"))
    kv_heads = get("attention.head_count_kv", heads)
    tokens = metadata.get("tokenizer.ggml.tokens") or []
    config = {
        "model_type": arch,
        "hidden_size": int(get("embedding_length")),
        "num_hidden_layers": int(get("block_count")),
        "intermediate_size": int(get("feed_forward_length")),
        "num_attention_heads": heads,
        "num_key_value_heads": int(kv_heads),
        "rms_norm_eps": float(get("attention.layer_norm_rms_epsilon", 1e-6)),
        "vocab_size": int(get("vocab_size", 0) or len(tokens)),
        "rope_theta": float(get("rope.freq_base", 10000.0)),
        "max_position_embeddings": int(get("context_length", 0) or 4096),
        "tie_word_embeddings": "output.weight" not in weights,
    }
    key_length = get("attention.key_length")
    if key_length and int(key_length) != config["hidden_size"] // heads:
        config["head_dim"] = int(key_length)
    scaling = _value(metadata, f"{arch}.rope.scaling.type")
    if scaling == "linear":
        config["rope_scaling"] = {"type": "linear", "factor": float(get("rope.scaling.factor", 1.0))}
    if arch == "llama":
        # llama.cpp's converter permutes the Q and K rows for its interleaved ("normal") rope:
        # MLX's traditional rope is that same rotation, so the weights load as they are.
        config["rope_traditional"] = True
    else:
        config["attention_bias"] = True
    return config


def rename(weights: dict) -> dict:
    """GGUF tensor names -> mlx-lm parameter names (``blk.3.attn_q.scales`` ->
    ``model.layers.3.self_attn.q_proj.scales``). Tensors MLX does not use are dropped."""
    renamed = {}
    for name, value in weights.items():
        match = re.fullmatch(r"blk\.(\d+)\.([a-z_]+)\.(weight|bias|scales|biases)", name)
        if match:
            layer, part, kind = match.groups()
            if part not in _LAYER_NAMES:
                continue
            renamed[f"model.layers.{layer}.{_LAYER_NAMES[part]}.{kind}"] = value
            continue
        base, _, kind = name.rpartition(".")
        if base in _TOP_NAMES:
            renamed[f"{_TOP_NAMES[base]}.{kind}"] = value
        # else: rope_freqs and other tensors mlx-lm's models compute themselves
    return renamed


def quantize_like(model, weights: dict) -> None:
    """Quantize each module of ``model`` whose weights came quantized, with their bits and group size."""
    from mlx import nn

    def predicate(path, module):
        scales = weights.get(f"{path}.scales")
        if scales is None or not hasattr(module, "to_quantized"):
            return False
        in_dims = module.weight.shape[-1]
        packed = weights[f"{path}.weight"].shape[-1]
        return {"group_size": in_dims // scales.shape[-1], "bits": packed * 32 // in_dims}

    nn.quantize(model, class_predicate=predicate)


def load_model(path: str):
    """(model, config, metadata) for the GGUF file at ``path``; weights evaluated."""
    import mlx.core as mx
    from mlx_lm.utils import _get_classes

    try:
        weights, metadata = mx.load(path, return_metadata=True)
    except (RuntimeError, ValueError) as exc:
        raise ModelFileError(f"MLX could not read {path} ({exc}). Try the llama.cpp backend: --backend llamacpp.") from exc
    config = model_config(metadata, weights)
    weights = rename(weights)
    model_class, args_class = _get_classes(config)
    model = model_class(args_class.from_dict(config))
    quantize_like(model, weights)
    try:
        model.load_weights(list(weights.items()), strict=True)
    except ValueError as exc:
        raise ModelFileError(
            f"the tensors of {path} do not match its {config['model_type']} config ({exc}). "
            "Use the llama.cpp backend for this file: --backend llamacpp."
        ) from exc
    mx.eval(model.parameters())
    model.eval()
    return model, config, metadata


def build_tokenizer(metadata: dict):
    """A transformers fast tokenizer equal to llama.cpp's for byte-level BPE vocabularies."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    kind = _value(metadata, "tokenizer.ggml.model", "")
    if kind != "gpt2":
        raise ModelFileError(
            f"the MLX backend reads byte-level BPE (gpt2) vocabularies from GGUF files, and this file's is "
            f"{kind!r}. Use the llama.cpp backend for it: --backend llamacpp."
        )
    tokens = list(metadata["tokenizer.ggml.tokens"])
    merges = [tuple(m.split(" ", 1)) for m in metadata.get("tokenizer.ggml.merges", [])]
    types = _value(metadata, "tokenizer.ggml.token_type") or [1] * len(tokens)
    pre = _value(metadata, "tokenizer.ggml.pre", "default")
    digits, split = PRE_TOKENIZERS.get(pre, PRE_TOKENIZERS["default"])

    vocab = {token: index for index, token in enumerate(tokens)}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False, ignore_merges=False))
    steps = [pre_tokenizers.Digits(individual_digits=True)] if digits else []
    steps += [
        pre_tokenizers.Split(Regex(split), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ]
    backend.pre_tokenizer = pre_tokenizers.Sequence(steps)
    backend.decoder = decoders.ByteLevel()
    # control (3) and user-defined (4) tokens are matched whole in the text, as llama.cpp does
    from tokenizers import AddedToken

    specials = [AddedToken(t, special=True, normalized=False) for t, k in zip(tokens, types) if k == 3]
    user = [AddedToken(t, special=False, normalized=False) for t, k in zip(tokens, types) if k == 4]
    backend.add_special_tokens(specials)
    if user:
        backend.add_tokens(user)

    def token(key):
        index = _value(metadata, f"tokenizer.ggml.{key}")
        return tokens[index] if index is not None and 0 <= index < len(tokens) else None

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=token("bos_token_id"),
        eos_token=token("eos_token_id"),
        unk_token=token("unknown_token_id"),
        pad_token=token("padding_token_id"),
    )
    eos_ids = {vocab[t] for t in EOG_TEXTS if t in vocab}
    eos = _value(metadata, "tokenizer.ggml.eos_token_id")
    if eos is not None:
        eos_ids.add(int(eos))
    return tokenizer, sorted(eos_ids)


def tokenizer_info(metadata: dict) -> dict:
    """Chat template, bos/eos text and whether to add BOS, as the llama.cpp backend reads them."""
    tokens = metadata.get("tokenizer.ggml.tokens") or []

    def text(key):
        index = _value(metadata, f"tokenizer.ggml.{key}")
        return tokens[index] if index is not None and 0 <= index < len(tokens) else ""

    return {
        "chat_template": str(_value(metadata, "tokenizer.chat_template", "") or ""),
        "bos": text("bos_token_id"),
        "eos": text("eos_token_id"),
        "add_bos": bool(_value(metadata, "tokenizer.ggml.add_bos_token", False)),
    }
