"""The GPU's free memory in memory_budget(): Metal's working set on Apple Silicon, nvidia-smi
for NVIDIA GPUs (read through seams: these machines have neither)."""

from jupyter_tinyai import hardware, memory

MIB = 1024 * 1024

SMI = """0, 7785, 8188, NVIDIA GeForce RTX 4060 Laptop GPU
1, [N/A], 16384, NVIDIA A2, with a comma
2, 20112, 24564, NVIDIA GeForce RTX 4090, Founders Edition
"""


def test_nvidia_smi_output_is_parsed():
    gpus = hardware.parse_nvidia_smi(SMI)
    assert [g.index for g in gpus] == [0, 2]  # a GPU without a free figure is skipped
    assert gpus[0] == hardware.NvidiaGPU(0, "NVIDIA GeForce RTX 4060 Laptop GPU", 7785 * MIB, 8188 * MIB)
    assert gpus[1].name == "NVIDIA GeForce RTX 4090, Founders Edition"
    assert hardware.parse_nvidia_smi("") == hardware.parse_nvidia_smi("No devices were found\n") == []


def test_nvidia_gpus_runs_the_query_it_parses():
    seen = []
    gpus = hardware.nvidia_gpus(run=lambda: seen.append(1) or SMI)
    assert seen and gpus[0].free_bytes == 7785 * MIB
    assert hardware.nvidia_gpus() == []  # this machine: no nvidia-smi
    assert hardware.NVIDIA_SMI_QUERY[0] == "--query-gpu=index,memory.free,memory.total,name"


def test_memory_budget_knows_an_nvidia_gpu(monkeypatch):
    monkeypatch.setattr(hardware, "nvidia_gpus", lambda: hardware.parse_nvidia_smi(SMI))
    budget = memory.memory_budget()
    assert budget.gpu_free_bytes == 7785 * MIB and budget.gpu_name == "NVIDIA GeForce RTX 4060 Laptop GPU"
    assert budget.gpu_working_set_bytes == 0 and budget.usable_bytes == int(budget.total_bytes * 0.85)


def test_memory_budget_without_a_gpu():
    budget = memory.memory_budget()
    assert budget.gpu_free_bytes == 0 and budget.gpu_name == "" and budget.total_bytes > 0


def test_apple_working_set_without_mlx_uses_the_wired_limit_then_the_default_share(monkeypatch):
    import sys

    monkeypatch.setattr(hardware, "is_apple_silicon", lambda: True)
    monkeypatch.setitem(sys.modules, "mlx.core", None)  # MLX not importable
    monkeypatch.setattr(hardware, "sysctl_int", {"iogpu.wired_limit_mb": 28000}.get)
    budget = memory.memory_budget()
    assert budget.gpu_working_set_bytes == budget.gpu_free_bytes == 28000 * MIB and budget.gpu_name == "Metal"
    monkeypatch.setattr(hardware, "sysctl_int", {"iogpu.wired_limit_mb": 0}.get)
    gb = 1024**3
    assert memory._apple_gpu_working_set(16 * gb) == int(16 * gb * 0.67)
    assert memory._apple_gpu_working_set(64 * gb) == int(64 * gb * 0.75)
