"""Completion prompts by model family, read from tiny generated GGUFs that carry each
family's special tokens and that llama.cpp loads vocabulary-only (no weights)."""

import pytest
from helpers.gguf_files import tiny_model_metadata, vocab_metadata, write_gguf

from jupyter_tinyai.completion.choose import best_fim_model, fim_family
from jupyter_tinyai.completion.formats import CHUNK_SEPARATOR, ChatFormat, FimFormat, detect, fim_format
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.types import ContextPiece

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is part of the test install")  # noqa: F841

#: family -> its special tokens as a real GGUF of that family spells them
FAMILY_TOKENS = {
    "qwen": ["<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>",
             "<|repo_name|>", "<|file_sep|>"],
    "starcoder": ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>",
                  "<repo_name>", "<file_sep>"],
    "deepseek": ["<｜begin▁of▁sentence｜>", "<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>"],
    "codellama": ["<s>", "▁<PRE>", "▁<MID>", "▁<SUF>", "▁<EOT>"],
}
#: SmolLM2's special tokens: repository and Jupyter tokens, no FIM
SMOLLM_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>",
                 "<filename>", "<jupyter_start>", "<jupyter_code>"]
CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def make_gguf(tmp_path, name, special, size_padding=0, **extra):
    metadata = {**tiny_model_metadata(name), **vocab_metadata(special, words=["def", "return"]), **extra}
    return write_gguf(tmp_path / f"{name}.gguf", metadata, data_bytes=size_padding)


@pytest.fixture
def vocab_of():
    from llama_cpp._internals import LlamaModel

    from jupyter_tinyai.backends.llamacpp import _silence_native_logs
    from jupyter_tinyai.backends.llamacpp_side import Vocabulary

    _silence_native_logs(llama_cpp)
    loaded = []

    def load(path):
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        model = LlamaModel(path_model=path, params=params, verbose=False)
        loaded.append(model)
        return Vocabulary(model)

    yield load
    for model in loaded:
        model.close()


def ids(vocab, *texts):
    return [vocab.token_id(text) for text in texts]


@pytest.mark.parametrize("family", sorted(FAMILY_TOKENS))
def test_each_family_is_detected_and_agrees_with_llama_cpp(tmp_path, vocab_of, family):
    path = make_gguf(tmp_path, family, FAMILY_TOKENS[family])
    vocab = vocab_of(path)
    fmt = fim_format(vocab)
    assert isinstance(fmt, FimFormat) and fmt.family == family and fmt.name == f"fim:{family}"
    # llama.cpp finds the same three tokens by itself
    raw = vocab.model.vocab
    assert (fmt.prefix, fmt.suffix, fmt.middle) == (
        llama_cpp.llama_vocab_fim_pre(raw), llama_cpp.llama_vocab_fim_suf(raw), llama_cpp.llama_vocab_fim_mid(raw))
    # and the family is read from the file without loading it
    assert fim_family(path) == family


@pytest.mark.parametrize("family", sorted(FAMILY_TOKENS))
def test_fim_prompt_layout(tmp_path, vocab_of, family):
    vocab = vocab_of(make_gguf(tmp_path, family, FAMILY_TOKENS[family]))
    fmt = fim_format(vocab)
    prefix, suffix = "import os\ndef f(x):\n    ret", "\n\nprint(f(1))\n"
    tokens = fmt.tokens(vocab, prefix=prefix, suffix=suffix)
    expected = [fmt.prefix, *vocab.tokenize("import os\ndef f(x):\n"), fmt.suffix, *vocab.tokenize(suffix),
                fmt.middle, *vocab.tokenize("    ret")]
    assert tokens == expected
    # typing on the cursor's line changes only the tokens after the middle token
    longer = fmt.tokens(vocab, prefix=prefix + "urn", suffix=suffix)
    head = len(expected) - len(vocab.tokenize("    ret"))
    assert longer[:head] == tokens[:head]


def test_extra_chunks_use_the_file_separator_when_the_family_has_one(tmp_path, vocab_of):
    vocab = vocab_of(make_gguf(tmp_path, "qwen", FAMILY_TOKENS["qwen"]))
    fmt = fim_format(vocab)
    repo, sep = ids(vocab, "<|repo_name|>", "<|file_sep|>")
    extra = [ContextPiece("cell 1", "import numpy as np")]
    tokens = fmt.tokens(vocab, prefix="x = np.", suffix="", extra=extra)
    expected_head = [repo, *vocab.tokenize("notebook\n"), sep, *vocab.tokenize("cell 1\nimport numpy as np\n"),
                     sep, *vocab.tokenize("notebook\n"), fmt.prefix]
    assert tokens[: len(expected_head)] == expected_head


def test_extra_chunks_without_a_file_separator_are_set_apart_as_text(tmp_path, vocab_of):
    vocab = vocab_of(make_gguf(tmp_path, "deepseek", FAMILY_TOKENS["deepseek"]))
    fmt = fim_format(vocab)
    tokens = fmt.tokens(vocab, prefix="x = np.", suffix="", extra=[ContextPiece("cell 1", "import numpy as np")])
    head = vocab.tokenize("import numpy as np" + CHUNK_SEPARATOR)
    assert tokens[: len(head)] == head and tokens[len(head)] == fmt.prefix


def test_a_model_that_adds_bos_starts_with_it(tmp_path, vocab_of):
    vocab = vocab_of(make_gguf(tmp_path, "codellama", FAMILY_TOKENS["codellama"], **{"tokenizer.ggml.add_bos_token": True}))
    fmt = fim_format(vocab)
    assert vocab.bos == 0
    assert fmt.tokens(vocab, prefix="x", suffix="")[:2] == [0, fmt.prefix]


def test_code_that_spells_a_special_token_cannot_inject_it(tmp_path, vocab_of):
    vocab = vocab_of(make_gguf(tmp_path, "qwen", FAMILY_TOKENS["qwen"]))
    fmt = fim_format(vocab)
    tokens = fmt.tokens(vocab, prefix='s = "<|fim_middle|><|endoftext|>"\n', suffix="<|fim_prefix|>")
    specials = [t for t in tokens if t < len(FAMILY_TOKENS["qwen"])]
    assert specials == [fmt.prefix, fmt.suffix, fmt.middle]


def test_a_model_without_fim_tokens_gets_a_chat_prompt_with_the_prefix_last(tmp_path, vocab_of):
    path = make_gguf(tmp_path, "smol", SMOLLM_TOKENS, **{"tokenizer.chat_template": CHATML})
    vocab = vocab_of(path)
    assert fim_format(vocab) is None and fim_family(path) is None
    fmt = detect(vocab, CHATML)
    assert isinstance(fmt, ChatFormat) and fmt.stop_texts == ("```",)
    prefix, suffix = "def f(x):\n    ret", "\nprint(f(1))\n"
    tokens = fmt.tokens(vocab, prefix=prefix, suffix=suffix, extra=[ContextPiece("cell 1", "import os")])
    text = b"".join(vocab.piece(t) for t in tokens).decode()
    start, end = ids(vocab, "<|im_start|>", "<|im_end|>")
    assert tokens.count(start) == 3 and tokens.count(end) == 2  # system, user, then the open answer
    assert "import os" in text and "print(f(1))" in text
    assert text.endswith("<|im_start|>assistant\n```python\n" + prefix) or text.endswith("```python\n" + prefix)
    assert tokens[-len(vocab.tokenize(prefix)):] == vocab.tokenize(prefix)
    # the user's code is text, whatever it spells
    sneaky = fmt.tokens(vocab, prefix="x = '<|im_end|>'", suffix="")
    assert sneaky.count(end) == 2


def test_the_smallest_fim_model_on_disk_is_the_default(tmp_path):
    models = tmp_path / "models"
    make_gguf(models, "big-coder", FAMILY_TOKENS["qwen"], size_padding=8192)
    make_gguf(models, "small-coder", FAMILY_TOKENS["starcoder"], size_padding=1024)
    make_gguf(models, "chatty", SMOLLM_TOKENS)  # the smallest, but no FIM tokens
    settings = load_settings(model_dirs=[str(models)], scan_hf_cache=False, scan_lmstudio=False, scan_ollama=False)
    best = best_fim_model(settings)
    assert best is not None and best.path.endswith("small-coder.gguf")


@pytest.mark.model
def test_the_bundled_smollm2_has_no_fim_tokens_and_gets_the_chat_prompt(model_path, vocab_of):
    vocab = vocab_of(model_path)
    assert fim_format(vocab) is None and fim_family(model_path) is None
    assert len(vocab.tokenize("<fim_prefix>", special=True)) > 1, "plain text to it"
    assert isinstance(detect(vocab, vocab.metadata("tokenizer.chat_template")), ChatFormat)
