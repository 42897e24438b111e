"""The trainer's images/s against a bare forward-backward-step loop (issue 4: at least 0.9x).

Runs only when selected: ``VGGABLATE_BENCH=1 python -m pytest tests/benchmarks/test_trainer_speed.py -s``.
Best of three interleaved repeats on each side, since the machine may be shared.
"""

import os
import time
from dataclasses import replace

import pytest
import torch
from torch import nn

from vggablate import build_model, resolve_spec
from vggablate.data import DeviceLoader, load_dataset
from vggablate.run.device import resolve_device
from vggablate.training.recipe import default_train_config, prepare_spec
from vggablate.training.trainer import train_and_evaluate

pytestmark = pytest.mark.skipif(os.environ.get("VGGABLATE_BENCH") != "1", reason="set VGGABLATE_BENCH=1 to run")
REPEATS = 3


def bare_loop_ips(spec, x: torch.Tensor, y: torch.Tensor, steps: int, cfg) -> float:
    """Time forward, backward and an optimizer step on one fixed batch: the trainer's ceiling."""
    model = build_model(spec).to(x.device)
    # The trainer's own optimizer (weight decay included): the comparison is about the data path.
    opt = torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    bf16 = cfg.bf16 and x.is_cuda
    for i in range(steps + 3):  # three warm-up steps, excluded
        if i == 3:
            sync()
            t0 = time.perf_counter()
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync()
    return steps * len(y) / (time.perf_counter() - t0)


def test_trainer_keeps_up_with_a_bare_loop():
    device = resolve_device(os.environ.get("VGGABLATE_BENCH_DEVICE", "auto"))
    dataset = "digits" if device == "cpu" else "cifar10"
    data = load_dataset(dataset, device=device)
    cfg = replace(default_train_config(dataset, device), epochs=2)
    spec = prepare_spec(resolve_spec(os.environ.get("VGGABLATE_BENCH_ARCH", "vgg11")), data, cfg)
    x, y = next(
        iter(DeviceLoader(data, cfg.batch_size, train=True, channels_last=cfg.channels_last and device != "cpu"))
    )
    trainer, bare = [], []
    for _ in range(REPEATS):
        result = train_and_evaluate(spec, data, cfg, device, seed=0, progress=False)
        trainer.append(result.train_ips)
        bare.append(bare_loop_ips(spec, x, y, result.steps, cfg))
    ratio = max(trainer) / max(bare)
    print(f"\n{spec.name} on {device}: trainer {max(trainer):.0f} img/s, bare {max(bare):.0f} img/s, ratio {ratio:.3f}")
    print(f"trainer runs {[round(v) for v in trainer]}, bare runs {[round(v) for v in bare]}")
    assert ratio >= 0.9
