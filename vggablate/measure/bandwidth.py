"""Memory bandwidth of a device: a STREAM-style triad measured in-process, and datasheet figures.

The triad ``a = b + s * c`` (McCalpin's STREAM) moves 3 arrays per pass: two reads and one
write (write-allocate traffic on CPUs is not counted, as STREAM does not count it). The arrays
are far larger than any cache (3 x 256 MiB on CPU, 3 x 1 GiB on CUDA), so the figure is DRAM's
(HBM's) bandwidth as PyTorch's own kernels see it, the roof the memory-bound layers hit.
Figures are GB/s (10^9 bytes per second), as datasheets quote them.
"""

from __future__ import annotations

import functools
import re
import statistics
import time

import torch

from vggablate.measure.peaks import SpecPeak

# fp32: 256 MiB per array, 768 MiB in all: beyond the L3 of the Xeon this was written on (480 MiB).
CPU_TRIAD_ELEMENTS = 64 * 2**20
CUDA_TRIAD_ELEMENTS = 256 * 2**20  # fp32: 1 GiB per array, beyond an H100/H200's 50-60 MB L2
TRIAD_BUDGET_S = 0.3
# Dense HBM/GDDR bandwidth, GB/s, from the same datasheets as peaks._SPEC_PEAKS (matched the same way).
_SPEC_BANDWIDTH: tuple[tuple[tuple[str, ...], float, str], ...] = (
    (("H100", "PCIe"), 2000.0, "NVIDIA H100 datasheet, PCIe"),
    (("H100", "NVL"), 3900.0, "NVIDIA H100 datasheet, NVL"),
    (("H100",), 3350.0, "NVIDIA H100 datasheet, SXM5"),
    (("H200",), 4800.0, "NVIDIA H200 datasheet"),
    (("A100", "40GB"), 1555.0, "NVIDIA A100 datasheet, 40GB"),
    (("A100",), 2039.0, "NVIDIA A100 datasheet, 80GB SXM"),
    (("L4",), 300.0, "NVIDIA L4 datasheet"),
    (("A10",), 600.0, "NVIDIA A10 datasheet"),
    (("V100",), 900.0, "NVIDIA V100 datasheet"),
    (("T4",), 320.0, "NVIDIA T4 datasheet"),
)


def spec_bandwidth(device_name: str) -> SpecPeak | None:
    """Return the datasheet memory bandwidth (GB/s, in SpecPeak.tflops's place) of a CUDA device, or None."""
    words = set(re.split(r"[^a-z0-9]+", device_name.lower()))
    for patterns, gbs, source in _SPEC_BANDWIDTH:
        if all(p.lower() in words for p in patterns):
            return SpecPeak(gbs, source)
    return None


@functools.cache
def measured_bandwidth_gbs(device: str) -> float:
    """Time a fp32 triad a = b + s*c on a device; return GB/s (median of repeats, cached per process)."""
    cuda = device.startswith("cuda")
    n = CUDA_TRIAD_ELEMENTS if cuda else CPU_TRIAD_ELEMENTS
    b, c = (torch.full((n,), 1.5, device=device) for _ in range(2))  # values do not matter; randn is slow
    a = torch.empty_like(b)
    torch.add(b, c, alpha=3.0, out=a)  # warm-up: page faults on first touch of a
    times: list[float] = []
    spent = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - spent < TRIAD_BUDGET_S and len(times) < 50):
        times.append(_time_once(lambda: torch.add(b, c, alpha=3.0, out=a), cuda))
    return 3 * n * a.element_size() / statistics.median(times) / 1e9


def _time_once(fn: object, cuda: bool) -> float:
    if cuda:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3
    start_s = time.perf_counter()
    fn()
    return time.perf_counter() - start_s
