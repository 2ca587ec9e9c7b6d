"""Where llama.cpp runs the model: GPU layers, flash attention, KV cache type, threads.

These machines have no GPU, so the decisions are tested: with the real llama_cpp module (a
CPU build) and, through ``offload.reported``, with a GPU of a given free memory reported by
the build. Tests marked ``model`` load the real bundled model.
"""

from __future__ import annotations

import os
import re

import llama_cpp
import pytest

from jupyter_tinyai import memory
from jupyter_tinyai.backends import offload
from jupyter_tinyai.backends.base import LoadSettings, placement_text
from jupyter_tinyai.backends.llamacpp import LlamaCppBackend
from jupyter_tinyai.config import GPU_THREADS, default_threads, load_settings
from jupyter_tinyai.engine import Engine
from jupyter_tinyai.errors import BadSetting, InsufficientMemory
from jupyter_tinyai.formats.gguf_file import read_gguf
from jupyter_tinyai.models import resolve

MB = 1024 * 1024
GB = 1024 * MB
CPU_BUILD = not llama_cpp.llama_supports_gpu_offload()


@pytest.fixture(scope="module")
def spec(model_path):
    return resolve(model_path, load_settings(host="inprocess", backend="llamacpp"))


def planned(spec, gpu=None, **settings) -> LlamaCppBackend:
    """A backend whose placement was decided with ``gpu`` reported by the build (not loaded)."""
    backend = LlamaCppBackend(spec, LoadSettings(**settings))
    with offload.reported(gpu):
        backend.plan  # noqa: B018 - decided once, here
    return backend


def shape_of(spec):
    return offload.model_shape(read_gguf(spec.path), spec.size_bytes)


# -- the real llama.cpp (a CPU build here) ---------------------------------------------------


@pytest.mark.model
@pytest.mark.skipif(not CPU_BUILD, reason="llama.cpp here is a GPU build; these tests describe a CPU build")
def test_the_cpu_build_reports_no_gpu_and_nothing_is_offloaded(engine):
    assert offload.llama_gpu() is None  # asked of llama.cpp itself
    assert offload._registry_gpu() is None  # its device registry lists the CPU only
    plan = engine._backend.plan
    assert plan.gpu is None and plan.layers == 0 and plan.n_gpu_layers == 0 and not plan.flash_attn
    threads = default_threads()
    assert plan.threads == threads
    where = placement_text("CPU", threads=threads)
    assert where == f"CPU, {threads} thread{'s' if threads > 1 else ''}"
    assert engine.status()["placement"] == where
    _, stats = engine.ask("Say hi.", conversation="offload-cpu", max_tokens=4)
    assert stats.placement == where
    assert engine._backend._llm.model_params.n_gpu_layers == 0


# -- the decision, with a GPU reported --------------------------------------------------------


def test_every_layer_goes_to_a_gpu_with_room(spec):
    backend = planned(spec, offload.GPU("CUDA 0", 8 * GB))
    plan = backend.plan
    assert (plan.layers, plan.n_layers, plan.n_gpu_layers) == (30, 30, -1)  # -1: the output head too
    assert plan.text() == "CUDA 0, 30/30 layers"
    assert plan.flash_attn and plan.threads == min(default_threads(), GPU_THREADS)
    cpu = planned(spec, None).plan
    assert plan.ram_bytes < cpu.ram_bytes / 4  # the weights and the KV cache are on the GPU


def test_a_gpu_too_small_for_the_model_takes_the_last_layers_that_fit(spec):
    shape = shape_of(spec)
    full = planned(spec, offload.GPU("CUDA 0", 8 * GB)).plan.gpu_bytes
    free = offload.gpu_margin(full) + full * 2 // 3
    plan = planned(spec, offload.GPU("CUDA 0", free)).plan
    assert 0 < plan.layers < 30 and plan.n_gpu_layers == plan.layers
    assert plan.text() == f"CUDA 0, {plan.layers}/30 layers"
    usable = free - offload.gpu_margin(free)
    assert plan.gpu_bytes <= usable
    kv_layer = read_gguf(spec.path).kv_bytes_per_token() * 8192 // 30
    assert plan.gpu_bytes + shape.layer_bytes[30 - plan.layers - 1] + kv_layer > usable  # one more would not fit
    assert plan.threads == default_threads()  # the CPU runs the other layers


def test_no_layer_fits_a_nearly_full_gpu(spec):
    plan = planned(spec, offload.GPU("Vulkan 0", 300 * MB)).plan
    assert plan.layers == 0 and plan.n_gpu_layers == 0
    assert plan.text() == placement_text("CPU", threads=default_threads())
    assert not plan.flash_attn  # a CPU run after all


def test_gpu_layers_setting_overrides_the_decision(spec):
    none = planned(spec, offload.GPU("CUDA 0", 8 * GB), gpu_layers=0).plan
    assert none.layers == 0 and none.n_gpu_layers == 0 and none.text().startswith("CPU, ")
    some = planned(spec, offload.GPU("CUDA 0", 300 * MB), gpu_layers=5).plan
    assert (some.layers, some.n_gpu_layers, some.text()) == (5, 5, "CUDA 0, 5/30 layers")
    assert planned(spec, None, gpu_layers=20).plan.layers == 0  # a CPU build offloads nothing


def test_gpu_free_memory_comes_from_memory_budget_when_the_build_does_not_say(spec, monkeypatch):
    monkeypatch.setattr(memory, "memory_budget", lambda: memory.MemoryBudget(16 * GB, 8 * GB, gpu_free_bytes=300 * MB, gpu_name="NVIDIA"))
    assert planned(spec, offload.GPU("CUDA 0")).plan.layers == 0
    monkeypatch.setattr(memory, "memory_budget", lambda: memory.MemoryBudget(16 * GB, 8 * GB))
    assert planned(spec, offload.GPU("CUDA 0")).plan.layers == 30  # nothing known: every layer, as llama.cpp's -ngl 99


def test_unified_memory_counts_the_whole_model_in_ram(spec):
    full = planned(spec, offload.GPU("CUDA 0", 8 * GB)).plan.gpu_bytes
    free = offload.gpu_margin(full) + full * 2 // 3
    metal = planned(spec, offload.GPU("Metal", free, unified=True)).plan
    cuda = planned(spec, offload.GPU("CUDA 0", free)).plan
    assert metal.layers == cuda.layers > 0
    assert metal.text() == f"Metal, {metal.layers}/30 layers"
    assert metal.ram_bytes > cuda.ram_bytes  # discrete: the offloaded layers leave the RAM


def test_refusal_when_even_the_cpu_part_does_not_fit(spec, monkeypatch):
    full = planned(spec, offload.GPU("CUDA 0", 8 * GB)).plan.gpu_bytes
    gpu = offload.GPU("CUDA 0", offload.gpu_margin(full) + full // 2)
    part = planned(spec, gpu).plan
    assert 0 < part.layers < 30
    monkeypatch.setattr(memory, "available_bytes", lambda: part.ram_bytes + 512 * MB - 1)  # 512 MB: the headroom
    engine = Engine(load_settings(host="inprocess", backend="llamacpp"))
    with offload.reported(gpu), pytest.raises(InsufficientMemory) as refused:
        engine.load(spec.path)
    message = str(refused.value)
    assert re.match(rf"SmolLM2-135M-Instruct-Q4_1 needs about [\d.]+ MB of memory \(after putting {part.layers}/30 "
                    r"layers, [\d.]+ MB, on CUDA 0\), but only [\d.]+ MB is available and c\.TinyAI\.memory_headroom_mb keeps "
                    r"512 MB free\. Close other programs", message), message
    assert engine.model is None
    monkeypatch.setattr(memory, "available_bytes", lambda: part.ram_bytes + 512 * MB + 1)
    with offload.reported(gpu):
        assert LlamaCppBackend(spec, LoadSettings()).estimate_bytes() == part.ram_bytes  # and it would fit


# -- the KV cache and flash attention ----------------------------------------------------------


def test_kv_cache_type_and_flash_attention_change_the_estimate(spec):
    kv = read_gguf(spec.path).kv_bytes_per_token
    assert (kv("f16"), kv("q8_0"), kv("q4_0")) == (23040, 12240, 6480)  # 30 layers x 3 KV heads x (64 + 64)
    f16_off = planned(spec, flash_attention="off").estimate_bytes()
    f16_on = planned(spec, flash_attention="on").estimate_bytes()
    q8 = planned(spec, kv_cache_type="q8_0").estimate_bytes()  # auto: flash attention on
    q4 = planned(spec, kv_cache_type="q4_0").estimate_bytes()
    assert f16_on < f16_off  # no attention-score buffer
    assert f16_on - q8 == (kv("f16") - kv("q8_0")) * 8192
    assert q8 - q4 == (kv("q8_0") - kv("q4_0")) * 8192


def test_a_quantized_cache_without_flash_attention_is_refused_with_what_to_do(spec):
    engine = Engine(load_settings(host="inprocess", kv_cache_type="q8_0", flash_attention="off"))
    with pytest.raises(BadSetting, match=r"kv_cache_type = 'q8_0' needs flash attention .* set c\.TinyAI\.flash_attention to 'auto' or 'on'"):
        engine.load(spec.path)
    assert engine.model is None


@pytest.mark.model
def test_a_q8_0_cache_runs_and_takes_about_half_the_memory(spec):
    engine = Engine(load_settings(host="inprocess", kv_cache_type="q8_0", n_ctx=2048))
    try:
        engine.load(spec.path)
        llm = engine._backend._llm
        assert llm.context_params.type_k == llm.context_params.type_v == llama_cpp.GGML_TYPE_Q8_0
        assert llm.context_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        text, _ = engine.ask("What is the capital of France?", max_tokens=16)
        assert "Paris" in text
        assert engine._backend.memory_bytes() == int(llm._model.size()) + 12240 * 2048
    finally:
        engine.unload()


@pytest.mark.model
def test_a_gpu_plan_reaches_llama_cpp(spec):
    """With a GPU reported, the layer count and flash attention are what llama.cpp is given
    (this CPU build then ignores the layers); placement says what was decided."""
    engine = Engine(load_settings(host="inprocess", gpu_layers=12, n_ctx=2048))
    try:
        with offload.reported(offload.GPU("CUDA 0", 8 * GB)):
            engine.load(spec.path)
        llm = engine._backend._llm
        assert llm.model_params.n_gpu_layers == 12
        assert llm.context_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        assert engine.status()["placement"] == "CUDA 0, 12/30 layers"
        text, stats = engine.ask("What is the capital of France?", max_tokens=16)
        assert "Paris" in text and stats.placement == "CUDA 0, 12/30 layers"
    finally:
        engine.unload()


@pytest.mark.model
def test_changing_a_gpu_setting_reloads_the_model_in_the_host():
    from jupyter_tinyai.host.state import HostState

    state = HostState(load_settings(host="inprocess", n_ctx=1024), 0, 0)
    try:
        state.engine.load()
        first = state.engine._backend
        state.apply_settings({"kv_cache_type": "q8_0"})
        state.engine.load()  # the request's settings differ: the model loads again with the new cache
        assert state.engine._backend is not first and state.engine._backend.plan.kv_cache_type == "q8_0"
        second = state.engine._backend
        state.apply_settings({"kv_cache_type": "q8_0", "gpu_layers": -1})  # unchanged: stays loaded
        state.engine.load()
        assert state.engine._backend is second
        state.apply_settings({"gpu_layers": 0})  # kv_cache_type not sent: the host's own (f16) again
        state.engine.load()
        assert state.engine._backend is not second and state.engine._backend.plan.kv_cache_type == "f16"
    finally:
        state.engine.unload()


# -- naming the GPU ---------------------------------------------------------------------------


def test_gpu_names_from_the_device_registry():
    assert offload.device_label("CUDA0", "CUDA") == "CUDA 0"
    assert offload.device_label("CUDA1", "CUDA") == "CUDA 1"
    assert offload.device_label("Vulkan0", "Vulkan") == "Vulkan 0"
    assert offload.device_label("MTL0", "MTL") == offload.device_label("Metal", "Metal") == "Metal"
    assert offload.device_label("", "SYCL") == "SYCL"


def test_gpu_names_from_the_system_info_string():
    assert offload.system_info_gpu(b"Metal : EMBED_LIBRARY = 1 | CPU : NEON = 1 | ARM_FMA = 1 | ") == "Metal"
    assert offload.system_info_gpu("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : SSE3 = 1 | AVX2 = 1 | ") == "CUDA"
    assert offload.system_info_gpu("CPU : SSE3 = 1 | Vulkan : COOPMAT = 1 | ") == "Vulkan"
    assert offload.system_info_gpu(llama_cpp.llama_print_system_info()) == "GPU"  # this CPU build: no GPU named


def test_placement_texts():
    assert placement_text("Metal", layers=30, of=30) == "Metal, 30/30 layers"
    assert placement_text("CUDA 0", layers=20, of=32) == "CUDA 0, 20/32 layers"
    assert placement_text("CPU", threads=7) == "CPU, 7 threads"
    assert placement_text("CPU", threads=1) == "CPU, 1 thread"
    assert placement_text("MLX (Metal)") == "MLX (Metal)"
    assert placement_text("remote lab") == "remote lab"


def test_a_remote_model_runs_on_its_server():
    from jupyter_tinyai.backends.remote import RemoteBackend
    from jupyter_tinyai.models.spec import ModelSpec

    spec = ModelSpec(id="lab:m", name="m", backend="remote", format="remote", extra={"remote": "lab", "url": "http://gpu-box:8080/v1"})
    assert RemoteBackend(spec, LoadSettings()).placement() == "remote lab"


def test_the_bundled_file_is_split_into_its_layers(spec):
    shape = shape_of(spec)
    assert shape.n_layers == 30 and len(set(shape.layer_bytes)) == 1  # 30 identical layers
    assert shape.tied_bytes > 0 and shape.output_bytes > shape.tied_bytes  # tied embeddings + output norm
    assert shape.weights_bytes == os.path.getsize(spec.path)
    assert shape.n_vocab == 49152 and shape.n_head == 9
