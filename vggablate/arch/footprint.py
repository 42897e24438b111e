"""What a model's step holds in memory, from the analytic shapes (no torch), and the checks that refuse too much.

Tensors alone: a lower bound of what the step needs, so a refusal is certain to be right (vggablate.checks.memory
says where the limit comes from and words the refusal).
"""

from __future__ import annotations

import math

from vggablate.arch.analysis import layer_table
from vggablate.arch.spec import ArchSpec
from vggablate.checks.memory import check_fits

_LOW_PRECISION = ("bf16", "fp16")


def model_bytes(
    spec: ArchSpec, input_size: int, batch_size: int, mode: str = "infer", precision: str = "fp32", inputs: int = 0
) -> dict[str, int]:
    """Estimate one step's tensor bytes from the analytic table: weights, activations, grads, optimizer, inputs.

    Infer: weights + the largest consecutive input/output pair x batch; train: weights, one fp32 grad
    and one SGD momentum per parameter, and every layer's output x batch (autograd keeps them), plus
    the pools' int64 indices. ``inputs``: extra input batches held at once (a latency trial rotates 4).
    """
    rows = layer_table(spec, input_size)
    params = sum(r.params for r in rows)
    buffers = sum(2 * r.out_channels for r in rows if r.kind == "bn")  # running mean and var
    low = precision in _LOW_PRECISION
    weights = 4 * (params + buffers) + (2 * params if low else 0)  # autocast's low-precision weight copies
    sizes = [spec.in_channels * input_size**2] + [math.prod(r.out_shape) for r in rows]
    act_bytes = 2 if low else 4
    if mode == "train":
        indices = sum(8 * math.prod(r.out_shape) for r in rows if r.kind == "pool")
        activations = batch_size * (act_bytes * sum(sizes) + indices)
    else:  # layer by layer: only a layer's input and output are alive at once
        activations = batch_size * act_bytes * max(a + b for a, b in zip(sizes, sizes[1:]))
    grads = optimizer = 4 * params if mode == "train" else 0
    held = 4 * inputs * batch_size * sizes[0]
    return {"weights": weights, "activations": activations, "grads": grads, "optimizer": optimizer, "inputs": held}


def check_model_fits(
    spec: ArchSpec, input_size: int, batch_size: int, mode: str, precision: str, device: str, inputs: int = 0
) -> None:
    """Refuse a model step whose analytic tensors exceed the device's memory, naming the estimate and the limit."""
    need = sum(model_bytes(spec, input_size, batch_size, mode, precision, inputs).values())
    what = f"{spec.name} ({mode}, batch {batch_size}, {input_size}x{input_size}, {precision}, width {spec.width:g})"
    check_fits(need, what, device, "use a smaller --batch-sizes, --width or --input-size")


def training_steps(fitted: ArchSpec, side: int, recipe: object) -> list[tuple]:
    """Return the two steps a training run holds: a train step at its batch, an eval pass at the eval batch."""
    return [(fitted, side, recipe.batch_size, "train", "fp32", 0),
            (fitted, side, recipe.eval_batch_size, "infer", "fp32", 0)]  # fmt: skip


def check_training_fits(fitted: ArchSpec, side: int, recipe: object, device: str) -> None:
    """Refuse a training run (the fitted spec at the data's side) whose steps cannot fit on the device."""
    for spec, size, batch, mode, precision, inputs in training_steps(fitted, side, recipe):
        need = sum(model_bytes(spec, size, batch, mode, precision, inputs).values())
        what = f"training {spec.name} ({mode}, batch {batch}, {size}x{size}, width {spec.width:g})"
        check_fits(need, what, device, "use a smaller --width or --batch-size")
