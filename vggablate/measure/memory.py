"""Peak memory of one step (infer or train) at a batch size, measured and estimated, in MiB.

CUDA: the caching allocator's peaks, each phase after ``reset_peak_memory_stats``: the weights
once on the device (``weights_mb``), then one step at the batch size (``peak_alloc_mb``,
``peak_reserved_mb``, weights included). That step is the second: the first, unmeasured,
creates SGD's momentum buffers (held through every later step), compiles under ``compile`` and
runs cuDNN's autotuning, whose workspaces are freed (``empty_cache``) before the peaks are reset.
CPU: the process's peak resident set above a baseline taken before the model is built
(``rss_peak_mb``), over the same two steps; meant for a fresh isolated process, where the
baseline is the interpreter and its imports. On Linux the peak is reset at the baseline
(``/proc/self/clear_refs``); where that fails, the lifetime peak (``ru_maxrss``) is used, an
upper bound. The analytic estimate is shown beside the measured figures: what the tensors need,
not what allocators, libraries and workspaces add.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass, replace

import torch

from vggablate.arch.factory import create_model
from vggablate.arch.footprint import model_bytes
from vggablate.arch.spec import ArchSpec
from vggablate.measure.latency import StepConfig, make_step, precision_flags

MIB = 2**20
_LOW_PRECISION = ("bf16", "fp16")


@dataclass(frozen=True)
class MemoryEstimate:
    """What the tensors of one step need, in MiB."""

    weights_mb: float  # fp32 parameters and buffers, plus autocast's low-precision weight copies
    activations_mb: float  # infer: the largest input+output pair; train: every saved output
    grads_mb: float  # train: one fp32 gradient per parameter
    optimizer_mb: float  # train: SGD's momentum buffer, one per parameter
    total_mb: float


@dataclass(frozen=True)
class MemoryStats:
    """Measured peaks (MiB) of one step, with the analytic estimate beside them."""

    weights_mb: float  # CUDA: allocated by the weights; CPU: resident growth from building the model
    peak_alloc_mb: float | None  # CUDA only
    peak_reserved_mb: float | None  # CUDA only
    rss_peak_mb: float | None  # CPU only: peak resident set above the baseline
    analytic: MemoryEstimate


def measure_memory(spec: ArchSpec, cfg: StepConfig) -> MemoryStats:
    """Build the spec's model and run one cfg.mode step; return peak memory (cfg's timing fields unused)."""
    cfg = replace(cfg, input_pool=1)
    estimate = estimate_memory(spec, cfg)
    with precision_flags(cfg.precision, cfg.cudnn_benchmark):
        if cfg.device.startswith("cuda"):
            return _measure_cuda(spec, cfg, estimate)
        return _measure_cpu(spec, cfg, estimate)


def estimate_memory(spec: ArchSpec, cfg: StepConfig) -> MemoryEstimate:
    """Estimate one step's tensor memory from the analytic per-layer table (vggablate.arch.footprint.model_bytes)."""
    b = model_bytes(spec, cfg.input_size, cfg.batch_size, cfg.mode, cfg.precision)
    return MemoryEstimate(
        weights_mb=b["weights"] / MIB,
        activations_mb=b["activations"] / MIB,
        grads_mb=b["grads"] / MIB,
        optimizer_mb=b["optimizer"] / MIB,
        total_mb=(b["weights"] + b["activations"] + b["grads"] + b["optimizer"]) / MIB,
    )


def _measure_cuda(spec: ArchSpec, cfg: StepConfig, estimate: MemoryEstimate) -> MemoryStats:
    model = create_model(spec)
    torch.cuda.synchronize(cfg.device)
    torch.cuda.reset_peak_memory_stats(cfg.device)
    base = torch.cuda.memory_allocated(cfg.device)
    fmt = torch.channels_last if cfg.channels_last else torch.preserve_format
    model.to(device=cfg.device, memory_format=fmt)
    weights = (torch.cuda.memory_allocated(cfg.device) - base) / MIB
    step = make_step(model, cfg, restorable=False)[0]
    step()  # warm-up: see the module docstring
    torch.cuda.synchronize(cfg.device)
    torch.cuda.empty_cache()  # return cuDNN's autotuning workspaces, so reserved starts from what is live
    torch.cuda.reset_peak_memory_stats(cfg.device)
    step()
    torch.cuda.synchronize(cfg.device)
    return MemoryStats(
        weights_mb=weights,
        peak_alloc_mb=(torch.cuda.max_memory_allocated(cfg.device) - base) / MIB,
        peak_reserved_mb=torch.cuda.max_memory_reserved(cfg.device) / MIB,
        rss_peak_mb=None,
        analytic=estimate,
    )


def _measure_cpu(spec: ArchSpec, cfg: StepConfig, estimate: MemoryEstimate) -> MemoryStats:
    base = rss_mb()
    reset = reset_peak_rss()
    model = create_model(spec)
    weights = rss_mb() - base
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    step = make_step(model, cfg, restorable=False)[0]
    step()
    step()  # the steady-state step: it holds the momentum buffers the first step created
    peak = (peak_rss_mb() if reset else max_rss_mb()) - base
    return MemoryStats(
        weights_mb=weights, peak_alloc_mb=None, peak_reserved_mb=None, rss_peak_mb=peak, analytic=estimate
    )


def rss_mb() -> float:
    """Return the current resident set of this process in MiB (Linux; else the lifetime peak)."""
    return _status_kib("VmRSS") / 1024 if _has_proc() else max_rss_mb()


def peak_rss_mb() -> float:
    """Return the peak resident set since the last reset_peak_rss (Linux) in MiB."""
    return _status_kib("VmHWM") / 1024 if _has_proc() else max_rss_mb()


def max_rss_mb() -> float:
    """Return the lifetime peak resident set of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS; say whether it worked (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # "5": reset the peak resident set size (proc(5), clear_refs)
        return True
    except OSError:
        return False


def _has_proc() -> bool:
    try:
        with open("/proc/self/status"):
            return True
    except OSError:
        return False


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")
