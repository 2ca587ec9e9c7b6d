"""Will a model fit? Checked before loading, so a too-large model is refused, not swapped."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import InsufficientMemory
from .units import human_size


def available_bytes() -> int:
    import psutil

    return psutil.virtual_memory().available


def process_rss() -> int:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss


def check_fits(backend, headroom_mb: int, freed_bytes: int = 0) -> None:
    """Raise InsufficientMemory when the backend's estimate exceeds what is available
    (plus ``freed_bytes``, what unloading the current model will give back; a remote model
    needs none here)."""
    need = backend.estimate_bytes()
    available, headroom = available_bytes() + freed_bytes, headroom_mb * 1024 * 1024
    if need and need > available - headroom:
        raise InsufficientMemory(
            f"{backend.spec.name} needs about {human_size(need)} of memory "
            f"({backend.memory_detail()}), but only "
            f"{human_size(available)} is available and c.TinyAI.memory_headroom_mb keeps "
            f"{headroom_mb} MB free. Close other programs, choose a smaller or "
            "more quantized model, or lower c.TinyAI.n_ctx (or c.TinyAI.memory_headroom_mb)."
        )


@dataclass
class MemoryBudget:
    """What this machine offers a model: RAM now and in total, and on Apple Silicon the
    GPU's recommended working set (unified memory the GPU may use without paging)."""

    total_bytes: int
    available_bytes: int
    gpu_working_set_bytes: int = 0  # 0: no such limit here (CPU inference)
    gpu_free_bytes: int = 0  # free memory of the GPU a model would use (Metal: the working set); 0: none known
    gpu_name: str = ""  # "Metal", "NVIDIA GeForce RTX 4060"

    @property
    def usable_bytes(self) -> int:
        """The most a model may take on this machine: the GPU working set where there is one,
        else 85% of the RAM (the system and the notebook need the rest)."""
        return self.gpu_working_set_bytes or int(self.total_bytes * 0.85)


def memory_budget() -> MemoryBudget:
    """This machine's memory for a model (the one place that knows about GPUs)."""
    import psutil

    vm = psutil.virtual_memory()
    working_set = _apple_gpu_working_set(vm.total)
    if working_set:  # unified memory: the GPU may use its working set of the RAM
        return MemoryBudget(vm.total, vm.available, working_set, working_set, "Metal")
    gpu = _nvidia_gpu()
    if gpu is not None:
        return MemoryBudget(vm.total, vm.available, gpu_free_bytes=gpu.free_bytes, gpu_name=gpu.name)
    return MemoryBudget(vm.total, vm.available)


def _nvidia_gpu():
    """The first NVIDIA GPU (llama.cpp's main GPU by default), None without one."""
    from .hardware import nvidia_gpus

    gpus = nvidia_gpus()
    return gpus[0] if gpus else None


def _apple_gpu_working_set(total: int) -> int:
    from . import hardware

    if not hardware.is_apple_silicon():
        return 0
    try:  # Metal's own figure, when MLX is installed
        import mlx.core as mx

        limit = int(mx.device_info().get("max_recommended_working_set_size", 0) or 0)
        if limit:
            return limit
    except Exception:  # noqa: BLE001 - no mlx, or no Metal: fall back to macOS's default share
        pass
    from .hardware import sysctl_int

    wired = sysctl_int("iogpu.wired_limit_mb") or 0  # set by the user to give the GPU more
    if wired > 0:
        return wired * 1024 * 1024
    return int(total * (0.75 if total > 36 * 1024**3 else 0.67))
