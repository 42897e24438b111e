"""Latency of whole forward (infer) or forward + backward + SGD steps (train), on CPU or CUDA.

CPU: ``time.perf_counter`` around each call. CUDA: a pair of CUDA events around each call and
a synchronize on the end event, so a sample is the device time of one step. Warm-up calls are
not timed. Sampling is adaptive: it stops at ``max_samples``, or once ``min_samples`` are in
and either the time budget is spent or the 95% CI of the median is within ``target_rel_ci``.
Inputs are random normal tensors (never zeros) rotated from a pool, so no one tensor stays hot.
Samples are raw seconds; nothing is rounded.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

_AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}
# Train steps use a tiny learning rate: random targets must not drive the weights to inf/NaN
# (or to denormals, which are slow on CPU) during a timing run; the weights are restored after.
TRAIN_LR = 1e-4
TRAIN_MOMENTUM = 0.9


@dataclass(frozen=True)
class StepConfig:
    """How to run a model's step (device, mode, shapes, precision) and time it: latency, memory and per-layer trials."""

    device: str = "cpu"  # cpu | cuda
    mode: str = "infer"  # infer: eval + inference_mode; train: forward + backward + SGD step
    batch_size: int = 1
    input_size: int = 224
    in_channels: int = 3
    precision: str = "fp32"  # fp32 | tf32 (CUDA matmul/conv) | bf16, fp16 (autocast)
    channels_last: bool = False
    cudnn_benchmark: bool = False  # let cuDNN time its conv algorithms on the first calls
    compile: bool = False  # torch.compile; the first call's time is reported as compile_s
    threads: int | None = None  # CPU intra-op threads; None keeps torch's current setting
    warmup: int = 3  # untimed calls: allocator, kernel selection, cuDNN autotuning, caches
    min_samples: int = 5  # a median and an IQR need a few samples even when steps are slow
    max_samples: int = 1000
    budget_s: float = 2.0  # stop sampling after this long (wall time) once min_samples are in
    target_rel_ci: float = 0.01  # or once the 95% CI of the median is within +-1% of it
    input_pool: int = 4  # distinct inputs, rotated
    seed: int = 0  # inputs and train targets


@dataclass(frozen=True)
class LatencyStats:
    """Raw step times in seconds and their summary."""

    samples_s: tuple[float, ...]
    median_s: float
    q25_s: float
    q75_s: float
    iqr_s: float
    p10_s: float
    p90_s: float
    mean_s: float
    std_s: float  # sample std (ddof=1); nan for one sample
    n: int
    rel_ci: float  # half-width of the 95% CI of the median over the median; inf when too few samples
    threads: int  # torch intra-op threads during the measurement
    compile_s: float | None  # the first, compiling call; None without compile


def measure_latency(model: nn.Module, cfg: StepConfig) -> LatencyStats:
    """Time cfg.mode steps of the model on cfg.device (the model is moved there); return the samples."""
    fmt = torch.channels_last if cfg.channels_last else torch.preserve_format
    model.to(device=cfg.device, memory_format=fmt)
    timer = cuda_timer if cfg.device.startswith("cuda") else cpu_timer
    with thread_count(cfg.threads), precision_flags(cfg.precision, cfg.cudnn_benchmark):
        step, restore = make_step(model, cfg)
        try:
            compile_s = _wall_time(step, cfg.device) if cfg.compile else None
            for _ in range(cfg.warmup):
                step()
            samples = sample(step, timer, cfg)
        finally:
            restore()
        threads = torch.get_num_threads()
    return summarize(samples, threads, compile_s)


def make_step(
    model: nn.Module, cfg: StepConfig, restorable: bool = True
) -> tuple[Callable[[], object], Callable[[], None]]:
    """Return one step of cfg.mode on rotating inputs (compiled under cfg.compile), and its undo."""
    forward = torch.compile(model) if cfg.compile else model
    feed = itertools.cycle(make_inputs(cfg))
    amp = _autocast(cfg)
    was_training = model.training
    if cfg.mode == "infer":
        model.eval()

        def infer() -> object:
            with torch.inference_mode(), amp():
                return forward(next(feed))

        return infer, lambda: model.train(was_training)
    model.train()
    # pycls restores BatchNorm statistics after timing train steps; we restore every tensor.
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()} if restorable else None
    opt = torch.optim.SGD(model.parameters(), lr=TRAIN_LR, momentum=TRAIN_MOMENTUM)
    scaler = torch.amp.GradScaler(_device_type(cfg)) if cfg.precision == "fp16" else None
    gen = torch.Generator(cfg.device).manual_seed(cfg.seed + 1)
    targets = torch.randint(_num_classes(model), (cfg.batch_size,), generator=gen, device=cfg.device)

    def train() -> object:
        opt.zero_grad(set_to_none=True)
        with amp():
            loss = F.cross_entropy(forward(next(feed)), targets)
        if scaler is None:
            loss.backward()
            opt.step()
        else:  # fp16 training needs loss scaling; timing it without would flatter fp16
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return loss

    def restore() -> None:
        if saved is not None:
            model.load_state_dict(saved)
        model.zero_grad(set_to_none=True)
        model.train(was_training)

    return train, restore


def make_inputs(cfg: StepConfig, count: int | None = None) -> list[torch.Tensor]:
    """Return ``count`` (default cfg.input_pool) random normal input batches on cfg.device."""
    # Drawn on the device: large CUDA batches are neither staged in host memory nor copied.
    gen = torch.Generator(cfg.device).manual_seed(cfg.seed)
    shape = (cfg.batch_size, cfg.in_channels, cfg.input_size, cfg.input_size)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    return [
        torch.randn(shape, generator=gen, device=cfg.device).contiguous(memory_format=fmt)
        for _ in range(count or max(1, cfg.input_pool))
    ]


def sample(step: Callable[[], object], timer: Callable[[Callable[[], object]], float], cfg: StepConfig) -> list[float]:
    """Time steps until max_samples, or min_samples and (budget spent or target CI reached)."""
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < cfg.max_samples:
        samples.append(timer(step))
        if len(samples) >= cfg.min_samples and (
            time.perf_counter() - start >= cfg.budget_s or median_rel_ci(samples) <= cfg.target_rel_ci
        ):
            break
    return samples


def cpu_timer(step: Callable[[], object]) -> float:
    """Return the wall seconds of one call."""
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def cuda_timer(step: Callable[[], object]) -> float:
    """Return the device seconds of one call, between two CUDA events."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    step()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3


def median_rel_ci(samples: list[float], z: float = 1.96) -> float:
    """Return the half-width of the distribution-free 95% CI of the median, over the median.

    The CI runs between the order statistics of ranks n/2 -+ z*sqrt(n)/2 (the binomial
    approximation; Conover, Practical Nonparametric Statistics, 3rd ed., 3.2).
    """
    n = len(samples)
    lo, hi = math.floor(n / 2 - z * math.sqrt(n) / 2), math.ceil(1 + n / 2 + z * math.sqrt(n) / 2)
    if lo < 1 or hi > n:
        return math.inf
    ordered = sorted(samples)
    return (ordered[hi - 1] - ordered[lo - 1]) / 2 / float(np.median(ordered))


def summarize(samples: list[float], threads: int, compile_s: float | None = None) -> LatencyStats:
    """Summarise step times (seconds) into quantiles, mean and std."""
    arr = np.asarray(samples, dtype=np.float64)
    p10, q25, median, q75, p90 = (float(v) for v in np.percentile(arr, [10, 25, 50, 75, 90]))
    return LatencyStats(
        samples_s=tuple(float(s) for s in arr),
        median_s=median,
        q25_s=q25,
        q75_s=q75,
        iqr_s=q75 - q25,
        p10_s=p10,
        p90_s=p90,
        mean_s=float(arr.mean()),
        std_s=float(arr.std(ddof=1)) if arr.size > 1 else math.nan,
        n=int(arr.size),
        rel_ci=median_rel_ci(samples),
        threads=threads,
        compile_s=compile_s,
    )


@contextmanager
def precision_flags(precision: str, cudnn_benchmark: bool = False) -> Iterator[None]:
    """Set TF32 and cuDNN autotuning for the block and restore them after (they are process-global)."""
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    tf32 = precision == "tf32"
    if hasattr(matmul, "fp32_precision"):  # torch >= 2.9; mixing in the legacy allow_tf32 raises
        wanted = [(matmul, "fp32_precision", "tf32" if tf32 else "ieee")]
        wanted.append((cudnn.conv, "fp32_precision", "tf32" if tf32 else "ieee"))
    else:
        wanted = [(matmul, "allow_tf32", tf32), (cudnn, "allow_tf32", tf32)]
    wanted.append((cudnn, "benchmark", cudnn_benchmark))
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in wanted]
    try:
        for obj, name, value in wanted:
            setattr(obj, name, value)
        yield
    finally:
        for obj, name, value in saved:
            setattr(obj, name, value)


@contextmanager
def thread_count(threads: int | None) -> Iterator[None]:
    """Use ``threads`` intra-op threads for the block (None: leave as is)."""
    saved = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def _wall_time(step: Callable[[], object], device: str) -> float:
    """Return the host wall seconds of one call, synchronized (compilation happens on the host)."""
    start = time.perf_counter()
    step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _autocast(cfg: StepConfig) -> Callable[[], object]:
    if cfg.precision in _AUTOCAST:
        return functools.partial(torch.autocast, _device_type(cfg), dtype=_AUTOCAST[cfg.precision])
    return nullcontext


def _device_type(cfg: StepConfig) -> str:
    return torch.device(cfg.device).type


def _num_classes(model: nn.Module) -> int:
    """Return the output width of the model's last linear layer (the classes)."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1].out_features
