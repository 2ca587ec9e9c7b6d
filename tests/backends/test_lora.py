"""LoRA adapters made in the test: a GGUF adapter for llama.cpp (written with the `gguf`
package, shaped after the bundled model's tensors) and an mlx-lm adapter folder trained for a
few steps with mlx-lm's own LoRA tooling. Loading one must change the answer."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from helpers.lora import write_gguf_lora

from backends.mlx_required import require_mlx
from jupyter_tinyai import cli
from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import ModelFileError

PROMPT = "What is the capital of France?"


def ask(model, adapter="", backend="auto", max_tokens=8):
    engine = Engine(load_settings(host="inprocess", model=model, adapter=adapter, backend=backend, n_ctx=512))
    try:
        text, stats = engine.ask(PROMPT, conversation=uuid.uuid4().hex, max_tokens=max_tokens)
        return text, stats, engine.status()
    finally:
        engine.unload()


# -- llama.cpp: GGUF adapters ------------------------------------------------------------


@pytest.fixture(scope="module")
def base_answer(model_path):
    text, _, _ = ask(model_path)
    return text


@pytest.mark.model
def test_gguf_adapter_changes_the_llamacpp_answer(tmp_path, model_path, base_answer):
    adapter = write_gguf_lora(tmp_path / "lora.gguf", model_path)
    text, stats, status = ask(model_path, adapter)
    assert text != base_answer, "the adapter was not applied"
    assert stats.backend == "llamacpp"
    assert stats.adapter == status["adapter"] == adapter, "shown in status and in the answer's metadata"
    assert "adapter lora.gguf" in stats.summary()


@pytest.mark.model
def test_gguf_adapter_with_a_zero_delta_leaves_the_answer(tmp_path, model_path, base_answer):
    """The control for the test above: the same adapter with lora_b = 0 changes nothing."""
    adapter = write_gguf_lora(tmp_path / "zero.gguf", model_path, zero_b=True)
    text, stats, _ = ask(model_path, adapter)
    assert text == base_answer and stats.adapter == adapter


def test_gguf_adapter_for_another_model_is_refused_clearly(tmp_path, model_path):
    adapter = write_gguf_lora(tmp_path / "other.gguf", model_path, wrong_shape=True)
    with pytest.raises(ModelFileError, match="does not fit this model: its blk.0.ffn_down.weight has shape"):
        ask(model_path, adapter)


def test_a_model_file_is_not_an_adapter(model_path):
    with pytest.raises(ModelFileError, match="is a model, not a LoRA adapter"):
        ask(model_path, model_path)


@pytest.mark.parametrize("content", [b"name:x:1000:1000::plain text\n", b""], ids=["text", "empty"])
def test_a_file_that_is_no_gguf_is_not_an_adapter(tmp_path, model_path, content):
    (tmp_path / "passwd").write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        ask(model_path, str(tmp_path / "passwd"))
    message = str(info.value)
    assert "is not a GGUF LoRA adapter" in message and "convert_lora_to_gguf.py" in message
    assert "model file" not in message and "again" not in message


@pytest.mark.model
def test_cli_ask_with_adapter(tmp_path, model_path, capsys):
    adapter = write_gguf_lora(tmp_path / "cli-lora.gguf", model_path)
    code = cli.main(["ask", "--in-process", "-m", model_path, "--adapter", adapter, "--max-tokens", "4", PROMPT])
    assert code == 0
    assert "adapter cli-lora.gguf" in capsys.readouterr().err


# -- MLX: mlx-lm adapter folders ---------------------------------------------------------


@pytest.fixture(scope="module")
def mlx_folder(tmp_path_factory, model_path):
    """An MLX model folder (config.json, model.safetensors, tokenizer) made from the bundled GGUF."""
    require_mlx()
    from mlx_lm.utils import save_config, save_model

    from jupyter_tinyai.backends import mlx_gguf

    folder = tmp_path_factory.mktemp("mlx") / "SmolLM2-mlx"
    model, config, metadata = mlx_gguf.load_model(model_path)
    tokenizer, eos_ids = mlx_gguf.build_tokenizer(metadata)
    tokenizer.chat_template = mlx_gguf.tokenizer_info(metadata)["chat_template"]
    save_model(folder, model)
    quantization = {"group_size": 32, "bits": 4, "model.embed_tokens": {"group_size": 32, "bits": 8}}
    save_config(dict(config, quantization=quantization, eos_token_id=eos_ids), folder / "config.json")
    tokenizer.save_pretrained(str(folder))
    return str(folder)


@pytest.fixture(scope="module")
def mlx_adapter(tmp_path_factory, mlx_folder):
    """A LoRA adapter trained with `mlx_lm lora` for a few steps to answer everything with 'Banana!'."""
    data = tmp_path_factory.mktemp("lora-data")
    questions = [PROMPT, "Name a colour.", "What is 2+2?", "Say hello."]
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "Banana! Banana!"}]} for q in questions]
    for split in ("train", "valid"):
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    adapter = tmp_path_factory.mktemp("adapter") / "banana"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-m", "mlx_lm", "lora", "--model", mlx_folder, "--train", "--data", str(data),
         "--iters", "12", "--batch-size", "1", "--num-layers", "4", "--learning-rate", "2e-3",
         "--max-seq-length", "128", "--steps-per-eval", "1000", "--val-batches", "1", "--seed", "0",
         "--adapter-path", str(adapter)],
        check=False, capture_output=True, text=True, timeout=1500, env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (adapter / "adapters.safetensors").is_file()
    return str(adapter)


@pytest.mark.model
def test_mlx_adapter_changes_the_answer(mlx_folder, mlx_adapter):
    base, base_stats, _ = ask(mlx_folder, max_tokens=6)
    tuned, stats, status = ask(mlx_folder, mlx_adapter, max_tokens=6)
    assert base_stats.backend == stats.backend == "mlx" and base_stats.adapter == ""
    assert "Paris" in base
    assert tuned != base, "the adapter was not applied"
    assert stats.adapter == status["adapter"] == mlx_adapter


@pytest.mark.model
def test_mlx_adapter_applies_to_the_same_gguf_through_mlx(model_path, mlx_adapter):
    """The folder was made from the bundled GGUF, so its adapter fits the GGUF loaded by MLX."""
    base, _, _ = ask(model_path, backend="mlx", max_tokens=6)
    tuned, stats, _ = ask(model_path, mlx_adapter, backend="mlx", max_tokens=6)
    assert stats.model.startswith("mlx:") and tuned != base


@pytest.mark.model
def test_gguf_adapter_on_mlx_and_mlx_adapter_on_llamacpp_say_what_to_do(tmp_path, model_path, mlx_adapter):
    gguf_adapter = write_gguf_lora(tmp_path / "lora.gguf", model_path)
    with pytest.raises(ModelFileError, match="is for llama.cpp: use --backend llamacpp"):
        ask(model_path, gguf_adapter, backend="mlx")
    with pytest.raises(ModelFileError, match="mlx-lm adapter folder: use it with an MLX model"):
        ask(model_path, mlx_adapter, backend="llamacpp")
