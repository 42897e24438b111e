"""Short-run training: train_and_evaluate and run_row (the recipes and fitting: vggablate.training.recipe).

SGD with Nesterov momentum, label smoothing and a warm-up + linear or cosine decay.
In-memory data sets train from the device (vggablate.data.DeviceLoader), so a step does no
host work; on CUDA the model runs channels_last under bf16 autocast.
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from vggablate.arch.analysis import analyse
from vggablate.arch.footprint import check_training_fits
from vggablate.arch.model import build_model
from vggablate.arch.spec import ArchSpec
from vggablate.data import DeviceLoader, StreamLoader, TensorData
from vggablate.errors import UsageError
from vggablate.measure.latency import precision_flags
from vggablate.schema import schedule_name
from vggablate.training.convergence import climb
from vggablate.training.evaluate import evaluate_model
from vggablate.training.recipe import (
    TrainConfig,
    effective_config,
)
from vggablate.words import plural


@dataclass(frozen=True)
class TrainResult:
    """One training run: the ``accuracy`` columns of the row schema."""

    top1: float  # percent, on the test split after the last step
    top5: float | None  # percent; None with 5 classes or fewer
    train_loss: float  # mean loss over the steps since the last curve point (the last epoch by default)
    train_time_s: float  # training steps only: evaluation is excluded
    train_ips: float  # images trained per second of train_time_s
    time_to_target_s: float | None  # train_time_s at the first epoch whose test top-1 reached target_top1
    target_top1: float | None
    epochs: float  # epochs run (steps / steps per epoch)
    steps: int
    train_batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    label_smoothing: float
    schedule: str
    warmup_epochs: float
    curve: list[dict[str, float]]  # per epoch: {"epoch", "train_loss", "test_top1"}
    # Test top-1 gained over the last quarter of the epochs, on the curve's test images (points;
    # None with fewer than two curve points): is the net still improving? (vggablate.training.convergence)
    top1_climb: float | None = None


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) for one run."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    """Return the learning-rate multiplier for a step: linear warm-up, then linear or cosine decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 1.0 - progress if schedule_name(schedule) == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))


def make_loaders(data: Any, cfg: TrainConfig, device: str, seed: int) -> tuple[Any, Any]:
    """Return (train, test) batch iterables: device-resident for in-memory data, streamed otherwise."""
    cl = effective_config(cfg, device).channels_last
    if isinstance(data, TensorData):
        data = data.to(device)  # a no-op when the caller loaded it there
        return DeviceLoader(data, cfg.batch_size, True, seed, cl), DeviceLoader(data, cfg.eval_batch_size, False, 0, cl)
    if data.train is None:
        raise UsageError(f"{data.root!r} has no train/ folder; training needs train/ and val/")
    train = StreamLoader(data.train, cfg.batch_size, True, device, data.workers, seed, cl)
    return train, StreamLoader(data.test, cfg.eval_batch_size, False, device, data.workers, 0, cl)


def curve_loader(data: Any, cfg: TrainConfig, device: str, test: Any) -> Any:
    """Return the loader the per-epoch curve is scored on: every k-th test image, or the whole split."""
    limit = cfg.curve_test_images
    if not isinstance(data, TensorData) or limit is None or len(data.test_y) <= limit:
        return test
    k = -(-len(data.test_y) // limit)  # a stride, not the first images: clutter's are grouped by digit
    sub = replace(data.to(device), test_x=data.test_x[::k], test_y=data.test_y[::k])
    return DeviceLoader(sub, cfg.eval_batch_size, False, 0, effective_config(cfg, device).channels_last)


def _sync(device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)  # GPU work is asynchronous: time only what has finished
    return time.perf_counter()


def _progress_bar(total: int, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False, disable=not progress or not sys.stderr.isatty())


def train_and_evaluate(
    spec: ArchSpec, data: Any, cfg: TrainConfig, device: str = "cpu", seed: int = 0, progress: bool = True
) -> TrainResult:
    """Train the spec as given on the data's train split; evaluate on its test split after every epoch."""
    cuda = device.startswith("cuda")
    # The row says bf16 or fp32, so fp32 must not quietly be TF32 (cuDNN's default on CUDA); the
    # shapes are fixed, so cuDNN's autotuning picks the fastest conv algorithms once per shape.
    with precision_flags("bf16" if effective_config(cfg, device).bf16 else "fp32", cudnn_benchmark=cuda):
        return _train_and_evaluate(spec, data, cfg, device, seed, progress)


def _train_and_evaluate(
    spec: ArchSpec, data: Any, cfg: TrainConfig, device: str, seed: int, progress: bool
) -> TrainResult:
    schedule_name(cfg.schedule)  # refuse an unknown schedule before any work
    if (spec.num_classes, spec.in_channels) != (data.num_classes, data.in_channels):
        classes = plural(spec.num_classes, "class", "classes")
        raise UsageError(f"{spec.name} has {classes}, the data {data.num_classes}; use prepare_spec")
    seed_everything(seed)
    paths = effective_config(cfg, device)
    bf16 = paths.bf16
    model = build_model(spec).to(device, memory_format=torch.channels_last if paths.channels_last else None)
    train, test = make_loaders(data, cfg, device, seed)
    curve_test = curve_loader(data, cfg, device, test)
    per_epoch = len(train)
    if per_epoch == 0:
        raise UsageError(f"the train split of {data.name} is empty")
    total = cfg.steps or max(1, math.ceil(cfg.epochs * per_epoch))
    opt = torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay
    )
    # At most a quarter of the run warms up: a 1-epoch budget with the recipes' 1-epoch warm-up would
    # otherwise climb the whole run and never decay (a Fashion-MNIST pilot: vgg11 81.6% in 1 epoch).
    warmup = min(round(cfg.warmup_epochs * per_epoch), total // 4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, total, warmup, cfg.schedule))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    curve: list[dict[str, float]] = []
    step, train_time, time_to_target, loss = 0, 0.0, None, math.nan
    bar = _progress_bar(total, f"{spec.name} seed {seed}", progress)
    # Score the curve at every epoch's end and, with evals_per_epoch > 1, every this many steps within it.
    every = max(1, per_epoch // max(1, cfg.evals_per_epoch))
    batches = _epochs(train)
    while step < total:
        model.train()
        loss_sum, seen, t0 = torch.zeros((), device=device), 0, _sync(device)
        for x, y in batches:
            with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
                batch_loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            opt.step()
            sched.step()
            loss_sum += batch_loss.detach().float() * len(y)  # stays on the device: no per-step sync
            seen, step = seen + len(y), step + 1
            bar.update()
            if step >= total or step % per_epoch == 0 or step % every == 0:
                break
        train_time += _sync(device) - t0
        loss = float(loss_sum) / max(1, seen)
        top1 = evaluate_model(model, curve_test, data.num_classes, bf16).top1
        curve.append({"epoch": step / per_epoch, "train_loss": loss, "test_top1": top1})
        if cfg.target_top1 is not None and time_to_target is None and top1 >= cfg.target_top1:
            time_to_target = train_time
        bar.set_postfix(epoch=f"{step / per_epoch:.1f}", loss=f"{loss:.3f}", acc=f"{top1:.1f}")
    bar.close()
    final = evaluate_model(model, test, data.num_classes, bf16)
    return TrainResult(
        top1=final.top1,
        top5=final.top5,
        train_loss=loss,
        train_time_s=train_time,
        train_ips=step * cfg.batch_size / train_time if train_time > 0 else math.nan,
        time_to_target_s=time_to_target,
        target_top1=cfg.target_top1,
        epochs=step / per_epoch,
        steps=step,
        train_batch_size=cfg.batch_size,
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
        label_smoothing=cfg.label_smoothing,
        schedule=schedule_name(cfg.schedule),
        warmup_epochs=warmup / per_epoch,  # as run: the recipe's, capped at a quarter of the steps
        curve=curve,
        top1_climb=climb(curve),
    )


def _epochs(loader: Any) -> Any:
    """Yield the loader's batches epoch after epoch (each pass draws its own order and augmentation)."""
    while True:
        yield from loader


def run_row(
    spec: ArchSpec, data: Any, cfg: TrainConfig, device: str, seed: int, progress: bool = False, bn_twin: bool = False
) -> dict:
    """Train the fitted spec once; return the row's figures (the settings are its trial's: recipe.fit_trial)."""
    check_training_fits(spec, data.input_size, cfg, device)  # refused from shapes, before allocating
    totals = analyse(spec, data.input_size)
    result = train_and_evaluate(spec, data, cfg, device, seed, progress)
    return {
        "narrow_from": cfg.narrow_from,
        "bn_twin": bn_twin,  # BatchNorm added by the recipe (TrainConfig.bn_twin) to a plain arch
        # The trained model's own size (analytic, exact: tests check it against fvcore), so that
        # accuracy can be plotted against the compute of the network that earned it.
        "params": totals.params,
        "macs": totals.macs,
        "flops": 2 * totals.macs,
        **asdict(result),
    }
