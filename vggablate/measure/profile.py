"""Per-layer latency of a VGG network: where the time of one inference or training step goes.

Method: synchronous per-module timing. Every leaf module (conv, BatchNorm, ReLU, pool, LRN,
linear, dropout) gets a forward pre-hook and a forward hook that read a clock; in train mode
the forward hook also registers a gradient hook on the module's output, which reads the clock
when the gradient of that output is ready, i.e. when the module's backward starts; the module's
backward ends when the gradient of its input (the previous module's output) is ready. On CPU
the clock is ``time.perf_counter`` (PyTorch's CPU kernels, and the CPU autograd engine, run
synchronously on the calling thread); on CUDA it is a CUDA event recorded on the current
stream, and the step synchronizes once at its end, so the hooks do not serialize host and device.
Train steps also time the loss (forward and backward) and the optimizer step (zero_grad + SGD)
as two pseudo-layers, so the layers sum to the whole step. Samples are seconds, never rounded.
The caller compares the sum of the per-layer medians with the whole-model median that
``measure_latency`` measures without hooks (the check the ``bench profile`` command prints).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vggablate.measure.latency import (
    TRAIN_LR,
    TRAIN_MOMENTUM,
    StepConfig,
    _autocast,
    _num_classes,
    make_inputs,
    precision_flags,
    thread_count,
)


@dataclass(frozen=True)
class LayerSamples:
    """Timed samples of one layer (or pseudo-layer: loss, optimizer), in seconds."""

    name: str
    forward_s: tuple[float, ...]
    backward_s: tuple[float, ...]  # empty in infer mode

    @property
    def total_s(self) -> tuple[float, ...]:
        """Forward + backward per step."""
        return tuple(f + b for f, b in itertools.zip_longest(self.forward_s, self.backward_s, fillvalue=0.0))


@dataclass(frozen=True)
class LayerProfile:
    """Per-layer samples of one setting, and the hooked steps' own wall times."""

    layers: tuple[LayerSamples, ...]  # in call order; train adds "loss" and "optimizer" last
    step_s: tuple[float, ...]  # each hooked step, end to end
    threads: int


class _CpuClock:
    def stamp(self) -> float:
        return time.perf_counter()

    def elapsed(self, a: float, b: float) -> float:
        return b - a

    def sync(self) -> None:
        pass


class _CudaClock:
    def stamp(self) -> torch.cuda.Event:
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def elapsed(self, a: torch.cuda.Event, b: torch.cuda.Event) -> float:
        return a.elapsed_time(b) / 1e3

    def sync(self) -> None:
        torch.cuda.synchronize()


def leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Return (name, module) of every leaf module, in registration order."""
    return [(n, m) for n, m in model.named_modules() if n and not list(m.children())]


def profile_layers(model: nn.Module, cfg: StepConfig) -> LayerProfile:
    """Time every leaf module of cfg.mode steps on cfg.device (the model is moved there)."""
    fmt = torch.channels_last if cfg.channels_last else torch.preserve_format
    model.to(device=cfg.device, memory_format=fmt)
    clock = _CudaClock() if cfg.device.startswith("cuda") else _CpuClock()
    with thread_count(cfg.threads), precision_flags(cfg.precision, cfg.cudnn_benchmark):
        step, names, restore = _hooked_step(model, cfg, clock)
        try:
            for _ in range(cfg.warmup):
                step()
            results = _sample(step, cfg)
        finally:
            restore()
        threads = torch.get_num_threads()
    fwd = {n: tuple(r[0][n] for r in results) for n in names}
    bwd = {n: tuple(r[1][n] for r in results if n in r[1]) for n in names}
    layers = tuple(LayerSamples(n, fwd[n], bwd[n]) for n in names)
    return LayerProfile(layers, tuple(r[2] for r in results), threads)


def merge_profiles(parts: list[LayerProfile]) -> LayerProfile:
    """Pool the samples of several profiles of the same network and setting (interleaved rounds)."""
    layers = tuple(
        LayerSamples(group[0].name, sum((g.forward_s for g in group), ()), sum((g.backward_s for g in group), ()))
        for group in zip(*(p.layers for p in parts))
    )
    return LayerProfile(layers, sum((p.step_s for p in parts), ()), parts[0].threads)


def _sample(step: Callable[[], tuple], cfg: StepConfig) -> list[tuple]:
    """Run steps until max_samples, or min_samples and the time budget (as measure_latency samples)."""
    out: list[tuple] = []
    start = time.perf_counter()
    while len(out) < cfg.max_samples:
        out.append(step())
        if len(out) >= cfg.min_samples and time.perf_counter() - start >= cfg.budget_s:
            break
    return out


def _hooked_step(model: nn.Module, cfg: StepConfig, clock: object) -> tuple[Callable[[], tuple], list, Callable]:
    """Return a step that returns ({layer: forward s}, {layer: backward s}, step s), the names, and the undo."""
    leaves = leaf_modules(model)
    train = cfg.mode == "train"
    stamps: dict[tuple[str, str], object] = {}

    def pre(name: str) -> Callable:
        return lambda module, args: stamps.__setitem__((name, "pre"), clock.stamp())

    def post(name: str) -> Callable:
        def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
            stamps[(name, "post")] = clock.stamp()
            if train and out.requires_grad:
                out.register_hook(lambda grad: stamps.__setitem__((name, "grad"), clock.stamp()))

        return hook

    handles = [h for n, m in leaves for h in (m.register_forward_pre_hook(pre(n)), m.register_forward_hook(post(n)))]
    names = [n for n, _ in leaves]
    feed = itertools.cycle(make_inputs(cfg))
    amp = _autocast(cfg)
    was_training = model.training
    model.train(train)
    if not train:

        def infer() -> tuple:
            stamps.clear()
            start = clock.stamp()
            with torch.inference_mode(), amp():
                model(next(feed))
            end = clock.stamp()
            clock.sync()
            fwd = {n: clock.elapsed(stamps[(n, "pre")], stamps[(n, "post")]) for n in names}
            return fwd, {}, clock.elapsed(start, end)

        return infer, names, _undo(handles, model, was_training, None)
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}  # train steps change weights
    opt = torch.optim.SGD(model.parameters(), lr=TRAIN_LR, momentum=TRAIN_MOMENTUM)
    gen = torch.Generator(cfg.device).manual_seed(cfg.seed + 1)
    targets = torch.randint(_num_classes(model), (cfg.batch_size,), generator=gen, device=cfg.device)

    def train_step() -> tuple:
        stamps.clear()
        start = clock.stamp()
        opt.zero_grad(set_to_none=True)
        with amp():
            out = model(next(feed))
            fwd_end = clock.stamp()
            loss = F.cross_entropy(out, targets)
        loss_end = clock.stamp()
        loss.backward()
        bwd_end = clock.stamp()
        opt.step()
        end = clock.stamp()
        clock.sync()
        fwd = {n: clock.elapsed(stamps[(n, "pre")], stamps[(n, "post")]) for n in names}
        bwd = _backward_times(names, stamps, bwd_end, clock)
        first_grad = next(stamps[(n, "grad")] for n in reversed(names) if (n, "grad") in stamps)
        fwd["loss"], bwd["loss"] = clock.elapsed(fwd_end, loss_end), clock.elapsed(loss_end, first_grad)
        fwd["optimizer"] = clock.elapsed(start, stamps[(names[0], "pre")]) + clock.elapsed(bwd_end, end)
        return fwd, bwd, clock.elapsed(start, end)

    return train_step, [*names, "loss", "optimizer"], _undo(handles, model, was_training, (saved, opt))


def _backward_times(names: list[str], stamps: dict, bwd_end: object, clock: object) -> dict[str, float]:
    """A layer's backward runs from its output's gradient to its input's (the previous output's)."""
    out: dict[str, float] = {}
    # Forward order: the previous layer's gradient stamp ends this layer's backward; the first
    # layer's input needs no gradient, so its backward ends when backward() returns.
    ready = [(n, stamps[(n, "grad")]) for n in names if (n, "grad") in stamps]
    for i, (name, start) in enumerate(ready):
        end = ready[i - 1][1] if i > 0 else bwd_end
        out[name] = clock.elapsed(start, end)
    return {n: out.get(n, 0.0) for n in names}


def _undo(handles: list, model: nn.Module, was_training: bool, train_state: tuple | None) -> Callable[[], None]:
    def restore() -> None:
        for h in handles:
            h.remove()
        if train_state is not None:
            model.load_state_dict(train_state[0])
            model.zero_grad(set_to_none=True)
        model.train(was_training)

    return restore
