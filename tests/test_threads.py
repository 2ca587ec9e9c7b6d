"""Threads for llama.cpp: performance cores on hybrid CPUs, one core left free otherwise, few
when the GPU does the work. The CPU is read through seams: a sysfs tree, sysctl."""

from unittest import mock

import pytest

from jupyter_tinyai import hardware
from jupyter_tinyai.config import GPU_THREADS, default_threads


def _physical(n):
    return mock.patch("psutil.cpu_count", return_value=n)


def test_default_threads_leave_a_core_free():
    with mock.patch.object(hardware, "performance_cores", return_value=None):
        for physical, expected in ((1, 1), (2, 1), (4, 3), (8, 7), (16, 8)):
            with _physical(physical):
                assert default_threads() == expected


def test_hybrid_cpus_use_their_performance_cores():
    for physical, performance, expected in ((8, 4, 4), (12, 4, 4), (10, 6, 6), (24, 8, 8), (14, 10, 8)):
        with _physical(physical), mock.patch.object(hardware, "performance_cores", return_value=performance):
            assert default_threads() == expected


def test_few_threads_when_every_layer_is_on_the_gpu():
    with mock.patch.object(hardware, "performance_cores", return_value=None):
        with _physical(8):
            assert default_threads(all_layers_on_gpu=True) == GPU_THREADS == 2
        with _physical(2):
            assert default_threads(all_layers_on_gpu=True) == 1


def _cpu(root, n, core, package=0, capacity=None):
    base = root / "system" / "cpu" / f"cpu{n}"
    (base / "topology").mkdir(parents=True)
    (base / "topology" / "core_id").write_text(f"{core}\n")
    (base / "topology" / "physical_package_id").write_text(f"{package}\n")
    if capacity is not None:
        (base / "cpu_capacity").write_text(f"{capacity}\n")


def test_intel_hybrid_p_cores_from_the_cpu_core_pmu(tmp_path):
    # i7-1260P: 4 P-cores with 2 threads each (cpus 0-7), 8 E-cores (cpus 8-15)
    for cpu in range(16):
        _cpu(tmp_path, cpu, core=cpu // 2 if cpu < 8 else cpu)
    (tmp_path / "system" / "cpu" / "online").write_text("0-15\n")
    (tmp_path / "cpu_core").mkdir()
    (tmp_path / "cpu_core" / "cpus").write_text("0-7\n")
    assert hardware.performance_cores(str(tmp_path), "linux") == 4


def test_big_little_cores_from_cpu_capacity(tmp_path):
    # a phone-class SoC: 1 prime (1024), 3 big (870), 4 little (325)
    for cpu, capacity in enumerate([325] * 4 + [870] * 3 + [1024]):
        _cpu(tmp_path, cpu, core=cpu, capacity=capacity)
    (tmp_path / "system" / "cpu" / "online").write_text("0-7")
    assert hardware.performance_cores(str(tmp_path), "linux") == 4


@pytest.mark.parametrize("capacities", [[1024] * 4, [1024, 1024, 990, 1024], [None] * 4])
def test_cores_alike_or_unknown_are_not_hybrid(tmp_path, capacities):
    for cpu, capacity in enumerate(capacities):
        _cpu(tmp_path, cpu, core=cpu, capacity=capacity)
    (tmp_path / "system" / "cpu" / "online").write_text("0-3")
    assert hardware.performance_cores(str(tmp_path), "linux") is None


def test_this_machine_is_read_without_error():
    assert hardware.performance_cores() is None or hardware.performance_cores() >= 1


def test_apple_silicon_performance_cores_from_sysctl(monkeypatch):
    assert hardware.sysctl_int("hw.ncpu") is None  # not macOS here: no sysctl
    values = {"hw.nperflevels": 2, "hw.perflevel0.physicalcpu": 8, "hw.perflevel1.physicalcpu": 4}
    monkeypatch.setattr(hardware, "sysctl_int", values.get)
    assert hardware.performance_cores(platform="darwin") == 8
    monkeypatch.setattr(hardware, "sysctl_int", {"hw.nperflevels": 1}.get)  # an Intel Mac
    assert hardware.performance_cores(platform="darwin") is None


def test_cpu_lists(tmp_path):
    (tmp_path / "list").write_text("0-3,8,10-11\n")
    assert hardware._read_cpu_list(str(tmp_path / "list")) == [0, 1, 2, 3, 8, 10, 11]
    assert hardware._read_cpu_list(str(tmp_path / "missing")) == []
