"""Peak compute of a device: a table of datasheet peaks, and a matmul peak measured in-process.

All figures are dense (no 2:4 sparsity) TFLOP/s, 1 multiply-add = 2 FLOPs. ``fp32`` is the
CUDA-core peak (TF32 off); ``tf32``, ``bf16`` and ``fp16`` are tensor-core peaks. Datasheets
quote tensor-core figures "with sparsity"; the dense figure is half of it.
"""

from __future__ import annotations

import functools
import re
import statistics
import time
from dataclasses import dataclass

import torch

# Each entry's words must all be words of torch.cuda.get_device_name() ("NVIDIA H100 80GB HBM3",
# "NVIDIA A100-SXM4-80GB", "Tesla V100-PCIE-32GB"); whole words, so "L4" is not "L40S" and "A10"
# is not "A100" or "A10G". The first match wins: specific entries come first.
_SPEC_PEAKS: tuple[tuple[tuple[str, ...], dict[str, float], str], ...] = (
    (("H100", "PCIe"), {"fp32": 51.0, "tf32": 378.0, "bf16": 756.5, "fp16": 756.5}, "NVIDIA H100 datasheet, PCIe"),
    (("H100", "NVL"), {"fp32": 60.0, "tf32": 417.5, "bf16": 835.5, "fp16": 835.5}, "NVIDIA H100 datasheet, NVL"),
    (("H100",), {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}, "NVIDIA H100 datasheet, SXM5"),
    (("H200", "NVL"), {"fp32": 60.0, "tf32": 417.5, "bf16": 835.5, "fp16": 835.5}, "NVIDIA H200 datasheet, NVL"),
    (("H200",), {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}, "NVIDIA H200 datasheet, SXM"),
    (("A100",), {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0}, "NVIDIA A100 datasheet"),
    (("L4",), {"fp32": 30.3, "tf32": 60.0, "bf16": 121.0, "fp16": 121.0}, "NVIDIA L4 datasheet"),
    (("A10",), {"fp32": 31.2, "tf32": 62.5, "bf16": 125.0, "fp16": 125.0}, "NVIDIA A10 datasheet"),
    (("V100", "PCIe"), {"fp32": 14.0, "fp16": 112.0}, "NVIDIA V100 datasheet, PCIe"),
    (("V100",), {"fp32": 15.7, "fp16": 125.0}, "NVIDIA V100 datasheet, SXM2"),
    (("T4",), {"fp32": 8.1, "fp16": 65.0}, "NVIDIA T4 datasheet"),
)
_DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
# A square matmul this large keeps every tensor core of an H100 busy (8192^3 x 2 = 1.1 TFLOP).
CUDA_GEMM_N = 8192
# On CPU the size grows from 256 until one product takes this long, or up to 2048: fp16 matmul
# is emulated on most CPUs (about 1 GFLOP/s here) and a fixed large size would take minutes.
CPU_GEMM_TARGET_S = 0.05
CPU_GEMM_MAX_N = 2048
GEMM_BUDGET_S = 0.5  # time spent on repetitions once the size is chosen


@dataclass(frozen=True)
class SpecPeak:
    """A datasheet peak: the figure, in dense TFLOP/s, and where it comes from."""

    tflops: float
    source: str


def spec_peak(device_name: str, precision: str) -> SpecPeak | None:
    """Return the datasheet peak of a CUDA device at a precision, or None when not known."""
    words = set(re.split(r"[^a-z0-9]+", device_name.lower()))
    for patterns, peaks, source in _SPEC_PEAKS:
        if all(p.lower() in words for p in patterns):
            return SpecPeak(peaks[precision], source) if precision in peaks else None
    return None


@functools.cache
def measured_gemm_tflops(device: str, precision: str) -> float:
    """Time a large square matmul at a precision on a device; return TFLOP/s (cached per process)."""
    from vggablate.measure.latency import precision_flags

    dtype = _DTYPES[precision]
    with precision_flags(precision):
        n = CUDA_GEMM_N if device.startswith("cuda") else _cpu_size(dtype)
        a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
        times = _time_matmul(a, b, device)
    return 2 * n**3 / statistics.median(times) / 1e12


def _cpu_size(dtype: torch.dtype) -> int:
    """Grow the matmul side until one product is slow enough to time well."""
    n = 256
    while n < CPU_GEMM_MAX_N:
        a = torch.randn(n, n, dtype=dtype)
        start = time.perf_counter()
        a @ a
        if time.perf_counter() - start >= CPU_GEMM_TARGET_S:
            break
        n *= 2
    return n


def _time_matmul(a: torch.Tensor, b: torch.Tensor, device: str) -> list[float]:
    """Return the seconds of repeated products after one untimed warm-up product."""
    a @ b  # warm-up: library handles, kernel selection
    times: list[float] = []
    spent = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - spent < GEMM_BUDGET_S:
        if device.startswith("cuda"):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            a @ b
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            start_s = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - start_s)
        if len(times) >= 50:
            break
    return times


@dataclass(frozen=True)
class Utilisation:
    """Throughput of a timed step and its share of the device's peaks."""

    throughput_ips: float  # images per second
    gflops_achieved: float  # model FLOPs per second / 1e9
    peak_tflops_spec: float | None  # datasheet, when the device is in the table
    peak_tflops_measured: float | None  # a large matmul in the same precision, same process
    mfu_vs_spec: float | None  # achieved / datasheet peak (a fraction, 0-1)
    util_vs_measured_gemm: float | None  # achieved / measured matmul peak


def utilisation(
    median_s: float,
    batch_size: int,
    macs_per_image: int,
    *,
    mode: str,
    device: str,
    precision: str,
    device_name: str = "",
    measure_peak: bool = True,
) -> Utilisation:
    """Derive throughput, achieved GFLOP/s and utilisation from a median step time."""
    # A train step is forward + backward, and backward costs about twice the forward
    # (input and weight gradients): 3x, the "6N" rule (Kaplan et al. 2020, Sect. 2.1).
    flops = 2 * macs_per_image * batch_size * (3 if mode == "train" else 1)
    achieved_tflops = flops / median_s / 1e12
    found = spec_peak(device_name, precision) if device.startswith("cuda") else None
    spec = found.tflops if found else None
    measured = measured_gemm_tflops(device, precision) if measure_peak else None
    return Utilisation(
        throughput_ips=batch_size / median_s,
        gflops_achieved=achieved_tflops * 1e3,
        peak_tflops_spec=spec,
        peak_tflops_measured=measured,
        mfu_vs_spec=achieved_tflops / spec if spec else None,
        util_vs_measured_gemm=achieved_tflops / measured if measured else None,
    )
