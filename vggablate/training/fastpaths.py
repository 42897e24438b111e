"""Which training fast paths a device runs: decided at run time from the hardware, recorded in each row.

On CUDA the recipe's own settings hold (bf16 autocast, channels_last). On a CPU they are decided by
what its kernels can do, never by one machine's measurement written in as a constant:
- channels_last wherever oneDNN (mkldnn) is built in: its NHWC convolutions skip the per-layer
  reorders of NCHW. Measured on an AVX2 AMD EPYC (docs/benchmarks.md, "Issue 19, CPU fast paths"):
  a vgg13_bn train step (width 1/8, batch 128, 1x32x32) took 0.25x the NCHW time.
- bf16 autocast only where the CPU multiplies bf16 natively (avx512_bf16 or AMX, as oneDNN reports):
  without it bf16 is emulated and slower (the same step: 3.1x NCHW fp32, 2.0x with channels_last on
  the AVX2 part; on an AVX-512/bf16 EPYC, 0.13x of fp32, issue 19).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class FastPaths:
    """The layout and precision a training run uses on its device."""

    channels_last: bool
    bf16: bool


@cache
def cpu_capabilities() -> tuple[bool, bool]:
    """Return (oneDNN available, native bf16) for this process's CPU."""
    import torch

    onednn = bool(torch.backends.mkldnn.is_available())
    try:
        native_bf16 = onednn and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without the op: no native bf16 to rely on
        native_bf16 = False
    return onednn, native_bf16


def fast_paths(channels_last: bool, bf16: bool, device: str) -> FastPaths:
    """Return the fast paths a recipe asking for (channels_last, bf16) runs with on the device."""
    if device.startswith("cuda"):
        return FastPaths(channels_last, bf16)
    onednn, native_bf16 = cpu_capabilities()
    return FastPaths(channels_last and onednn, bf16 and native_bf16)
