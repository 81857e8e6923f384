"""Which int8 kernels ONNX Runtime can use on this CPU.

ONNX Runtime picks its matrix kernels at run time; what it cannot choose is the
model file. Without VNNI, x86's 8-bit multiply-add saturates on full-range
weights, so AVX2 machines get a file quantised to 7 bits (``reduce_range``),
as ONNX Runtime's documentation advises, and CPUs with neither run float32.
"""

from __future__ import annotations

import platform
from functools import lru_cache
from pathlib import Path

VNNI, AVX2, ARM64 = "avx512_vnni", "avx2", "arm64"


def cpu_flags(cpuinfo: str) -> set[str]:
    """The feature flags of the first processor in a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def kernel_for(machine: str, flags: set[str]) -> str | None:
    """The int8 kernel family for a CPU, or None where float32 is the better choice."""
    machine = machine.lower()
    if machine in ("x86_64", "amd64"):
        if flags & {"avx512_vnni", "avx_vnni"}:
            return VNNI
        return AVX2 if "avx2" in flags else None
    if machine in ("aarch64", "arm64"):
        return ARM64
    return None


@lru_cache(maxsize=1)
def int8_kernel() -> str | None:
    """:func:`kernel_for` this machine (flags read from /proc/cpuinfo where there is one)."""
    try:
        flags = cpu_flags(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        flags = set()
    return kernel_for(platform.machine(), flags)
