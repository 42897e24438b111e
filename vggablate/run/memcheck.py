"""Refuse a run's trials, before any work, when a setting cannot fit even at its smallest batch size."""

from __future__ import annotations

from vggablate.arch.footprint import model_bytes, training_steps
from vggablate.checks.memory import available_bytes, check_fits
from vggablate.run.trial import Trial, fit_trial


def check_trials_fit(trials: list[Trial], limit: int | None = None) -> None:
    """Refuse, before any work, a setting that cannot fit even at its smallest batch size.

    Larger batch sizes of the same setting are left to their trials: an OOM row in a batch-size
    sweep is a result (README), and a CPU trial refuses to allocate what cannot fit (run/execute.py).
    """
    smallest: dict[tuple, Trial] = {}
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


def trial_steps(t: Trial) -> list[tuple]:
    """Return (spec, input size, batch, mode, precision, input batches held) of each step a trial runs."""
    if t.kind == "counts":
        return [(t.spec, t.input_size, 1, "infer", "fp32", 1)]
    if t.kind in ("latency", "layers"):
        return [(t.spec, t.input_size, t.batch_size, t.mode, t.precision, 4)]  # StepConfig.input_pool
    if t.kind == "memory":
        return [(t.spec, t.input_size, t.batch_size, t.mode, t.precision, 1)]
    t = fit_trial(t)  # the spec, side and batch it will train at (a no-op on a trial fitted when planned)
    return training_steps(t.spec, t.input_size, t.train)
