"""What this machine's processors offer, read cheaply and without new dependencies.

- :func:`performance_cores`: the performance cores of a hybrid CPU (Apple Silicon, Intel
  12th generation and later, ARM big.LITTLE), None when every core is alike or it cannot tell.
- :func:`nvidia_gpus`: each NVIDIA GPU's free and total memory, from ``nvidia-smi``.
- :func:`sysctl_int`: a macOS ``sysctl`` number (Metal's wired limit, performance levels).

Each reads the system through a seam tests replace: ``root`` (a sysfs tree), ``run`` (a
command runner) or :func:`sysctl_int` itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass

SYSFS = "/sys/devices"


def is_apple_silicon() -> bool:
    return sys.platform == "darwin" and platform.machine() == "arm64"


def sysctl_int(name: str) -> int | None:
    """The integer sysctl ``name`` on macOS (``sysctlbyname``), None elsewhere or when absent."""
    if sys.platform != "darwin":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        value, size = ctypes.c_int64(0), ctypes.c_size_t(8)
        if libc.sysctlbyname(name.encode(), ctypes.byref(value), ctypes.byref(size), None, ctypes.c_size_t(0)) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return int(value.value)  # a 4-byte value fills the low half (little-endian, zeroed buffer)


def performance_cores(root: str = SYSFS, platform: str = sys.platform) -> int | None:
    """Physical performance cores of a hybrid CPU; None when all cores are alike or unknown.

    macOS: ``hw.perflevel0.physicalcpu`` when there are two performance levels (what llama.cpp
    uses there). Linux: the CPUs of the ``cpu_core`` PMU (Intel hybrid chips list their P-cores
    there), else the CPUs whose ``cpu_capacity`` is at least half the largest (ARM big.LITTLE).
    ``cpuinfo_max_freq`` is not used: on Intel chips with Turbo Boost Max 3.0 two "favoured"
    cores of an ordinary CPU have a higher maximum frequency than the others.
    """
    if platform == "darwin":
        if (sysctl_int("hw.nperflevels") or 1) < 2:
            return None
        return sysctl_int("hw.perflevel0.physicalcpu") or None
    if not platform.startswith("linux"):
        return None
    cpus = _read_cpu_list(os.path.join(root, "cpu_core", "cpus"))
    if not cpus:
        capacity = {cpu: _read_int(os.path.join(root, "system", "cpu", f"cpu{cpu}", "cpu_capacity")) for cpu in _online(root)}
        known = {cpu: c for cpu, c in capacity.items() if c}
        if len(known) < 2 or len(set(known.values())) < 2:
            return None
        top = max(known.values())
        cpus = [cpu for cpu, c in known.items() if c * 2 >= top]
        if len(cpus) == len(known):
            return None
    return _physical(root, cpus)


def _online(root: str) -> list[int]:
    return _read_cpu_list(os.path.join(root, "system", "cpu", "online"))


def _physical(root: str, cpus: list[int]) -> int:
    """Physical cores among logical ``cpus`` (SMT siblings counted once)."""
    cores = set()
    for cpu in cpus:
        topology = os.path.join(root, "system", "cpu", f"cpu{cpu}", "topology")
        core = _read_int(os.path.join(topology, "core_id"))
        package = _read_int(os.path.join(topology, "physical_package_id"))
        cores.add((package, core) if core is not None else ("cpu", cpu))
    return len(cores)


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _read_cpu_list(path: str) -> list[int]:
    """'0-3,8,10-11' -> [0, 1, 2, 3, 8, 10, 11]; [] when unreadable."""
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError:
        return []
    cpus: list[int] = []
    try:
        for part in filter(None, text.split(",")):
            first, _, last = part.partition("-")
            cpus.extend(range(int(first), int(last or first) + 1))
    except ValueError:
        return []
    return cpus


@dataclass(frozen=True)
class NvidiaGPU:
    index: int
    name: str
    free_bytes: int
    total_bytes: int


NVIDIA_SMI_QUERY = ["--query-gpu=index,memory.free,memory.total,name", "--format=csv,noheader,nounits"]


def parse_nvidia_smi(text: str) -> list[NvidiaGPU]:
    """``nvidia-smi --query-gpu=index,memory.free,memory.total,name --format=csv,noheader,nounits``
    output ("0, 7785, 8188, NVIDIA GeForce RTX 4060 Laptop GPU", MiB) -> GPUs; bad lines are skipped."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",", 3)]
        if len(parts) != 4:
            continue
        try:
            index, free, total = int(parts[0]), int(float(parts[1])), int(float(parts[2]))
        except ValueError:  # "[N/A]", "[Not Supported]"
            continue
        gpus.append(NvidiaGPU(index, parts[3], free * 1024 * 1024, total * 1024 * 1024))
    return gpus


def _run_nvidia_smi() -> str:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return ""
    try:
        done = subprocess.run([exe, *NVIDIA_SMI_QUERY], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def nvidia_gpus(run=_run_nvidia_smi) -> list[NvidiaGPU]:
    """The NVIDIA GPUs with their free memory now; [] without an NVIDIA driver."""
    return parse_nvidia_smi(run())
