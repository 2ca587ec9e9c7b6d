"""Where llama.cpp runs a model: on which GPU, how many of its layers, with which KV cache.

Whether the installed llama.cpp can offload at all is asked of llama.cpp itself
(``llama_supports_gpu_offload``), and the GPU's name and free memory come from its device
registry (ggml's ``ggml_backend_dev_*``), so a Metal, CUDA, Vulkan or SYCL build is told
apart without guessing from the platform. :func:`reported` is the seam tests use to say
what the build offers (machines without a GPU can then test the decisions, not the hardware).

The decision (:func:`plan`): every layer when the whole model (its layers, output head, KV
cache and compute buffer) fits the GPU's free memory; otherwise as many of the last layers as
fit (llama.cpp offloads the last N); none on a CPU build. ``c.TinyAI.gpu_layers`` overrides it.
"""

from __future__ import annotations

import ctypes
import re
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import BadSetting
from ..formats.gguf_file import KV_CACHE_TYPES, GGUFInfo, tensor_index
from ..units import human_size

MB = 1024 * 1024
N_UBATCH = 512  # llama-cpp-python's default micro-batch: the compute buffers scale with it


@dataclass(frozen=True)
class GPU:
    """The GPU a llama.cpp build offloads to."""

    name: str  # "Metal", "CUDA 0", "Vulkan 0"
    free_bytes: int = 0  # free memory llama.cpp reports on it; 0: unknown (ask memory_budget)
    unified: bool = False  # shares the RAM (Apple Silicon, integrated GPUs)


_reported: list = []


@contextmanager
def reported(gpu: GPU | None):
    """Within the block, :func:`llama_gpu` answers ``gpu`` (None: a CPU build) instead of llama.cpp."""
    _reported.append(gpu)
    try:
        yield gpu
    finally:
        _reported.pop()


def llama_gpu() -> GPU | None:
    """The GPU the installed llama.cpp offloads to; None on a CPU build (or without llama.cpp)."""
    if _reported:
        return _reported[-1]
    try:
        import llama_cpp
    except ImportError:
        return None
    if not llama_cpp.llama_supports_gpu_offload():
        return None
    from .. import hardware

    return _registry_gpu() or GPU(system_info_gpu(llama_cpp.llama_print_system_info()), unified=hardware.is_apple_silicon())


# -- the device registry ------------------------------------------------------------------

_DEVICE_CPU, _DEVICE_GPU, _DEVICE_IGPU = 0, 1, 2  # enum ggml_backend_dev_type (IGPU since 2025)


def _registry_gpu() -> GPU | None:
    """The GPU devices of ggml's registry: their name and free memory (None when unreadable)."""
    try:
        from llama_cpp._ggml import libggml as lib

        functions = {
            "ggml_backend_dev_count": (ctypes.c_size_t, []),
            "ggml_backend_dev_get": (ctypes.c_void_p, [ctypes.c_size_t]),
            "ggml_backend_dev_name": (ctypes.c_char_p, [ctypes.c_void_p]),
            "ggml_backend_dev_type": (ctypes.c_int, [ctypes.c_void_p]),
            "ggml_backend_dev_memory": (None, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]),
            "ggml_backend_dev_backend_reg": (ctypes.c_void_p, [ctypes.c_void_p]),
            "ggml_backend_reg_name": (ctypes.c_char_p, [ctypes.c_void_p]),
        }
        for name, (restype, argtypes) in functions.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        devices = []
        for i in range(lib.ggml_backend_dev_count()):
            dev = lib.ggml_backend_dev_get(i)
            kind = lib.ggml_backend_dev_type(dev)
            registry = (lib.ggml_backend_reg_name(lib.ggml_backend_dev_backend_reg(dev)) or b"").decode()
            if kind == _DEVICE_CPU or registry.upper() in ("CPU", "BLAS", "RPC"):
                continue
            free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
            lib.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
            devices.append((kind, (lib.ggml_backend_dev_name(dev) or b"").decode(), registry, free.value))
    except (ImportError, AttributeError, OSError):
        return None
    if not devices:
        return None
    best = min(kind for kind, *_ in devices)  # llama.cpp uses GPUs, and integrated GPUs only without one
    chosen = [d for d in devices if d[0] == best]
    names = [device_label(name, registry) for _, name, registry, _ in chosen]
    label = names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1} more)"
    metal = chosen[0][2].upper() in ("METAL", "MTL")
    return GPU(label, sum(d[3] for d in chosen), unified=metal or best == _DEVICE_IGPU)


def device_label(device: str, registry: str) -> str:
    """ggml's names -> ours: ("CUDA0", "CUDA") -> "CUDA 0"; ("MTL0", "MTL") -> "Metal"."""
    if registry.upper() in ("METAL", "MTL"):
        return "Metal"
    match = re.fullmatch(r"(.*?)(\d+)", device)
    return f"{match.group(1)} {match.group(2)}" if match and match.group(1) else (device or registry or "GPU")


def system_info_gpu(info) -> str:
    """The first GPU backend named in ``llama_print_system_info()`` ("Metal : EMBED_LIBRARY = 1 |
    CPU : NEON = 1 | ..."), for builds whose device registry cannot be read; "GPU" when none is."""
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    for name in re.findall(r"(?:^|\|)\s*([A-Za-z][\w-]*)\s*:", text):
        if name.upper() not in ("CPU", "BLAS", "RPC", "AARCH64"):
            return "Metal" if name.upper() in ("METAL", "MTL") else name
    return "GPU"


# -- the decision ---------------------------------------------------------------------------


@dataclass
class Shape:
    """What the decision needs to know of a model, from its GGUF header and tensor index."""

    n_layers: int
    layer_bytes: list  # weights of each repeating layer (blk.N.*), in order
    output_bytes: int  # the output head and norm, as placed on the GPU with every layer
    input_bytes: int  # the token embeddings: llama.cpp keeps them in RAM
    tied_bytes: int = 0  # tied embeddings: the copy of them llama.cpp puts on the GPU as the output head
    n_vocab: int = 0
    n_embd: int = 0
    n_ff: int = 0
    n_head: int = 0

    @property
    def own_output_bytes(self) -> int:
        """What the output head takes in RAM beside the token embeddings."""
        return self.output_bytes - self.tied_bytes

    @property
    def weights_bytes(self) -> int:
        return sum(self.layer_bytes) + self.input_bytes + self.own_output_bytes


def model_shape(info: GGUFInfo, file_bytes: int) -> Shape:
    """Per-layer sizes from the tensor index; an even split of the file when it has tensor
    types this reader does not know."""
    arch, md = info.architecture, info.metadata
    n_layers = int(md.get(f"{arch}.block_count", 0) or 0)
    tensors = tensor_index(info.path)
    layers, output, embeddings = [0] * n_layers, 0, 0
    unknown = not n_layers or not tensors or any(t.nbytes is None for t in tensors)
    tied = not any(t.name == "output.weight" for t in tensors)
    for tensor in [] if unknown else tensors:
        match = re.match(r"blk\.(\d+)\.", tensor.name)
        if match and int(match.group(1)) < n_layers:
            layers[int(match.group(1))] += tensor.nbytes
        elif tensor.name.startswith("token_embd."):
            embeddings += tensor.nbytes
        else:
            output += tensor.nbytes
    if unknown:
        share = file_bytes // (n_layers + 2)
        layers, output, embeddings, tied = [share] * n_layers, share, file_bytes - share * (n_layers + 1), False
    tied_bytes = embeddings if tied else 0  # llama.cpp copies tied embeddings to the GPU as the output head
    output += tied_bytes
    embeddings += max(0, file_bytes - sum(layers) - output + tied_bytes - embeddings)  # header, vocabulary: RAM
    embd_shape = next((t.shape for t in tensors if t.name == "token_embd.weight"), ())
    vocab = md.get(f"{arch}.vocab_size") or (embd_shape[-1] if len(embd_shape) == 2 else 0) or 32000
    return Shape(
        n_layers=n_layers,
        layer_bytes=layers,
        output_bytes=output,
        input_bytes=embeddings,
        tied_bytes=tied_bytes,
        n_vocab=int(vocab),
        n_embd=int(md.get(f"{arch}.embedding_length", 0) or 0),
        n_ff=_first(md.get(f"{arch}.feed_forward_length", 0)),
        n_head=_first(md.get(f"{arch}.attention.head_count", 0)),
    )


def _first(value) -> int:
    if isinstance(value, list):
        return int(max(value)) if value else 0
    return int(value or 0)


def compute_bytes(shape: Shape, n_ctx: int, flash_attn: bool) -> int:
    """llama.cpp's compute buffer: the larger of the logits of a micro-batch and (without flash
    attention) its attention scores, plus the layer activations. Checked against llama.cpp's
    own report for the bundled model at 8192 tokens: 166 MiB without flash attention, 98 with
    (this gives 161 and 113)."""
    logits = N_UBATCH * shape.n_vocab * 4
    scores = 0 if flash_attn else N_UBATCH * n_ctx * shape.n_head * 4
    return max(logits, scores) + 4 * N_UBATCH * (shape.n_embd + shape.n_ff) * 4


def gpu_margin(free: int) -> int:
    """Free GPU memory left alone: the driver's context and fragmentation (5%, at least 256 MiB)."""
    return max(256 * MB, free // 20)


@dataclass
class Plan:
    """Where a model runs: its layers on the GPU, the memory it takes there and in RAM."""

    gpu: GPU | None
    layers: int  # repeating layers on the GPU
    n_layers: int
    n_gpu_layers: int  # given to llama.cpp: -1 every layer and the output head
    flash_attn: bool
    kv_cache_type: str
    gpu_bytes: int = 0
    ram_bytes: int = 0
    threads: int = 0  # CPU threads llama.cpp is given

    @property
    def all_on_gpu(self) -> bool:
        """Every layer and the output head on the GPU: the CPU only looks up the embeddings."""
        head = self.n_gpu_layers < 0 or self.n_gpu_layers > self.n_layers
        return self.gpu is not None and self.n_layers > 0 and self.layers >= self.n_layers and head

    def text(self) -> str:
        from .base import placement_text

        if self.gpu is None or self.layers == 0:
            return placement_text("CPU", threads=self.threads)
        return placement_text(self.gpu.name, layers=self.layers, of=self.n_layers)


def flash_attention(setting: str, kv_cache_type: str, offloading: bool) -> bool:
    """Flash attention on or off. ``auto``: on when layers go to a GPU (less memory, faster
    there) or the KV cache is quantized (llama.cpp needs it then); off on the CPU with an f16
    cache, where it measured the same speed and would change answers from earlier versions."""
    quantized = kv_cache_type != "f16"
    if setting == "off" and quantized:
        raise BadSetting(
            f"c.TinyAI.kv_cache_type = {kv_cache_type!r} needs flash attention (llama.cpp stores a quantized "
            "V cache only with it): set c.TinyAI.flash_attention to 'auto' or 'on', or kv_cache_type to 'f16'."
        )
    if setting in ("on", "off"):
        return setting == "on"
    return offloading or quantized


def plan(shape: Shape, kv_bytes_per_token: int, n_ctx: int, gpu: GPU | None, gpu_free: int,
         gpu_layers: int = -1, flash: str = "auto", kv_cache_type: str = "f16") -> Plan:
    """Decide where the layers go. ``kv_bytes_per_token`` is for the whole model in
    ``kv_cache_type``; ``gpu_free`` is the GPU's free memory (0: unknown, every layer goes);
    ``gpu_layers`` is c.TinyAI.gpu_layers (-1 decide, 0 none, N)."""
    if kv_cache_type not in KV_CACHE_TYPES:
        raise BadSetting(f"unknown KV cache type {kv_cache_type!r}: use one of {', '.join(KV_CACHE_TYPES)}.")
    n = shape.n_layers
    offloading = gpu is not None and gpu_layers != 0 and n > 0
    fa = flash_attention(flash, kv_cache_type, offloading)
    kv_layer = kv_bytes_per_token * n_ctx // n if n else 0
    compute = compute_bytes(shape, n_ctx, fa)
    result = Plan(gpu, 0, n, 0, fa, kv_cache_type)
    if offloading:
        if gpu_layers > 0:
            result.layers, result.n_gpu_layers = min(gpu_layers, n), gpu_layers
        elif not gpu_free:
            result.layers, result.n_gpu_layers = n, -1
        else:
            usable = gpu_free - gpu_margin(gpu_free)
            if sum(shape.layer_bytes) + shape.output_bytes + kv_layer * n + compute <= usable:
                result.layers, result.n_gpu_layers = n, -1
            else:
                on_gpu = 0
                for count in range(n, 0, -1):  # llama.cpp offloads the last `count` layers
                    if sum(shape.layer_bytes[n - count:]) + kv_layer * count + compute <= usable:
                        on_gpu = count
                        break
                result.layers = result.n_gpu_layers = on_gpu
    if offloading and result.layers == 0:  # nothing fits: a CPU run after all
        result.flash_attn = flash_attention(flash, kv_cache_type, False)
        compute = compute_bytes(shape, n_ctx, result.flash_attn)
    _account(result, shape, kv_layer, compute)
    return result


def _account(result: Plan, shape: Shape, kv_layer: int, compute: int) -> None:
    """Fill in the memory ``result`` takes on the GPU and in RAM."""
    n, k = shape.n_layers, result.layers
    head = k > 0 and (result.n_gpu_layers < 0 or result.n_gpu_layers > n)  # the output head too
    result.gpu_bytes = sum(shape.layer_bytes[n - k:]) + kv_layer * k + (compute + (shape.output_bytes if head else 0) if k else 0)
    if k and result.gpu.unified:  # one memory holds it all
        result.ram_bytes = shape.weights_bytes + kv_layer * n + compute
        return
    cpu_compute = 4 * N_UBATCH * shape.n_embd * 4 if head and k == n else compute  # input embeddings only
    result.ram_bytes = (shape.input_bytes + sum(shape.layer_bytes[: n - k]) + kv_layer * (n - k)
                        + (0 if head else shape.own_output_bytes) + cpu_compute)


def describe(result: Plan) -> str:
    """The words for what the GPU holds, for a memory refusal."""
    return f"after putting {result.layers}/{result.n_layers} layers, {human_size(result.gpu_bytes)}, on {result.gpu.name}"
