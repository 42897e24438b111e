"""Refuse work whose tensors cannot fit, before allocating them: from shapes, not from a failed malloc.

A trial that asks for 52 TiB should be one line before any work, not a minute of work and then an
allocator error (or, on Linux with overcommit, the OOM killer taking other processes with it). The
estimates are the tensors alone (vggablate.arch.analysis' shapes, no torch): a lower bound of what the
step needs, so a refusal is certain to be right; what is close to the limit is left to run.

Limits: on CPU the kernel's MemAvailable (/proc/meminfo; psutil where installed, elsewhere); on
CUDA the card's total memory (nvidia-smi, or torch where this process already holds a context).
Where no limit can be read, nothing is refused.
"""

from __future__ import annotations

import math
from pathlib import Path

from vggablate.arch.analysis import layer_table
from vggablate.arch.spec import ArchSpec
from vggablate.errors import UsageError

_LOW_PRECISION = ("bf16", "fp16")
# sklearn's digits: 1,797 images; the fixed stratified 20% test split (clutter.py) leaves 1,437 and 360.
DIGITS_TRAIN, DIGITS_TEST = 1437, 360


class MemoryLimitError(UsageError, MemoryError):
    """Estimated to need more memory than the machine has: a usage error (CLI: exit 2), and an OOM in a trial."""


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


def clutter_bytes(canvas: int, digit: int, patches: int, patch: int, placements: int, test_placements: int) -> int:
    """Estimate the peak bytes of building the cluttered-digits task (both splits, uint8, with temporaries)."""
    # Per image: the canvas, the gathered windows and crops of make_split, int64 coordinates and sources.
    per_image = canvas**2 + 3 * digit**2 + 3 * patch**2 + 16 * (digit + patch) + 8 * (1 + patches) + 64
    return (DIGITS_TRAIN * placements + DIGITS_TEST * test_placements) * per_image


def available_bytes(device: str = "cpu") -> int | None:
    """Return the memory a new allocation can use on the device, in bytes; None where it cannot be read."""
    if device.startswith("cuda"):
        return _cuda_total(device)
    return _host_available()


def _host_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def _cuda_total(device: str) -> int | None:
    import torch

    index = torch.device(device).index or 0
    if torch.cuda.is_initialized():  # asking torch otherwise would create a context here (measure/env.py)
        return int(torch.cuda.mem_get_info(index)[1])
    return _smi_total(index)


def _smi_total(index: int) -> int | None:
    from vggablate.measure.smi import smi_query

    text = smi_query(index, "memory.total")
    try:
        return int(float(text)) * 2**20 if text else None  # MiB
    except ValueError:
        return None


def human_bytes(n: float) -> str:
    """Format a byte count with binary units (52 TiB, 23 GiB, 512 MiB)."""
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def check_fits(needed: int, what: str, device: str = "cpu", fix: str = "", limit: int | None = None) -> None:
    """Raise MemoryLimitError when ``needed`` bytes exceed what the device has (given, or read now)."""
    limit = available_bytes(device) if limit is None else limit
    if limit is None or needed <= limit:
        return
    cuda = device.startswith("cuda")
    where = (
        f"the GPU ({device}) has {human_bytes(limit)} in total"
        if cuda
        else f"this machine has {human_bytes(limit)} available"
    )
    raise MemoryLimitError(f"{what} needs {human_bytes(needed)}; {where}{'; ' + fix if fix else ''}")


def check_model_fits(
    spec: ArchSpec, input_size: int, batch_size: int, mode: str, precision: str, device: str, inputs: int = 0
) -> None:
    """Refuse a model step whose analytic tensors exceed the device's memory, naming the estimate and the limit."""
    need = sum(model_bytes(spec, input_size, batch_size, mode, precision, inputs).values())
    what = f"{spec.name} ({mode}, batch {batch_size}, {input_size}x{input_size}, {precision}, width {spec.width:g})"
    check_fits(need, what, device, "use a smaller --batch-sizes, --width or --input-size")


def check_trials_fit(trials: list, limit: int | None = None) -> None:
    """Refuse, before any work, a setting that cannot fit even at its smallest batch size.

    Larger batch sizes of the same setting are left to their trials: an OOM row in a batch-size
    sweep is a result (README), and a CPU trial refuses to allocate what cannot fit (trial.py).
    """
    smallest: dict[tuple, object] = {}
    for t in trials:
        key = (t.spec, t.kind, t.mode, t.precision, t.input_size, t.device, t.dataset)
        if key not in smallest or t.batch_size < smallest[key].batch_size:
            smallest[key] = t
    limits: dict[str, int | None] = {}
    for t in smallest.values():
        if t.device not in limits:
            limits[t.device] = available_bytes(t.device) if limit is None else limit
        for spec, size, batch, mode, precision, inputs in trial_steps(t):
            need = sum(model_bytes(spec, size, batch, mode, precision, inputs).values())
            what = f"{spec.name} ({t.kind}, {mode}, batch {batch}, {size}x{size}, {precision}, width {spec.width:g})"
            check_fits(need, what, t.device, "use a smaller batch size, width or input size", limits[t.device])


def trial_steps(t: object) -> list[tuple]:
    """Return (spec, input size, batch, mode, precision, input batches held) of each step a trial runs."""
    if t.kind == "counts":
        return [(t.spec, t.input_size, 1, "infer", "fp32", 1)]
    if t.kind in ("latency", "layers"):
        return [(t.spec, t.input_size, t.batch_size, t.mode, t.precision, 4)]  # StepConfig.input_pool
    if t.kind == "memory":
        return [(t.spec, t.input_size, t.batch_size, t.mode, t.precision, 1)]
    from vggablate.training.recipe import fit_trial  # planned accuracy trials are fitted already: a no-op

    t = fit_trial(t)  # the spec, side and batch the trial will train at
    return training_steps(t.spec, t.input_size, t.train)


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
