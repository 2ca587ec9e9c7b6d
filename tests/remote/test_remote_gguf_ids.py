"""llama.cpp's own server names its model by its file (``qwen2.5-1.5b-instruct-q4_k_m.gguf``):
such a remote id is the remote's model, not a path on this machine."""

from helpers.fake_remote import CountingRemote

from jupyter_tinyai.config import load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.models import resolve


def test_a_remote_model_named_like_a_gguf_file_is_the_remotes():
    server = CountingRemote("qwen2.5-1.5b-instruct-q4_k_m.gguf")
    try:
        settings = load_settings(host="inprocess", remotes={"lab": {"url": server.url}})
        spec = resolve("lab:qwen2.5-1.5b-instruct-q4_k_m.gguf", settings)
        assert spec.remote and spec.id == "lab:qwen2.5-1.5b-instruct-q4_k_m.gguf"
        text, _ = Engine(settings).ask("hi", model="lab:qwen2.5-1.5b-instruct-q4_k_m.gguf", conversation="c")
        assert text == server.answer
    finally:
        server.stop()
