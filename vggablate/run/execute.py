"""A Trial (one arch at one setting) and how to run it into rows (docs/design.md, "Rows")."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import torch

from vggablate.arch.analysis import analyse
from vggablate.arch.factory import create_model
from vggablate.arch.footprint import check_model_fits
from vggablate.measure.counts import measure_counts
from vggablate.measure.env import collect_env
from vggablate.measure.latency import StepConfig, measure_latency, thread_count
from vggablate.measure.memory import measure_memory
from vggablate.measure.peaks import utilisation
from vggablate.run.isolate import run_isolated
from vggablate.run.memcheck import trial_steps
from vggablate.run.timestamps import utc_timestamp
from vggablate.run.trial import (
    PROGRESS_ENV,
    Trial,
    check_trial,
    fit_trial,
    identity,
)


def run_trial(trial: Trial) -> list[dict]:
    """Run a trial in this process; return its rows (identity, settings, env and figures)."""
    trial = fit_trial(check_trial(trial))  # planned sweeps' trials are fitted already: a no-op
    stamp = utc_timestamp()
    start = time.perf_counter()
    if trial.device == "cpu":
        # Refuse what the host cannot hold before allocating it: an `oom` row (MemoryLimitError is a
        # MemoryError), not minutes of swapping or the OOM killer. CUDA fails cleanly by itself.
        for spec, size, batch, mode, precision, inputs in trial_steps(trial):
            check_model_fits(spec, size, batch, mode, precision, "cpu", inputs)
    with thread_count(trial.threads):
        # Before the work: the load average is the machine's, not the trial's. This process runs
        # the trial's CUDA work anyway, so it may ask torch for the card's name.
        env = collect_env(trial.device, start_cuda=True)
        figures = RUNNERS[trial.kind](trial)
    duration = time.perf_counter() - start
    return [{**identity(trial, stamp, duration), **env, **f} for f in figures]


def run_trial_isolated(trial: Trial, timeout_s: float = 900.0) -> list[dict]:
    """Run a trial in a fresh process; any failure becomes one error row (bad settings raise first)."""
    trial = fit_trial(check_trial(trial))  # an error row shows the settings the trial would have run with
    stamp = utc_timestamp()
    out = run_isolated(run_trial, {"trial": trial}, timeout_s)
    if out.ok:
        return out.value
    return [error_row(trial, out.error or "", out.error_type or "exception", out.duration_s, stamp)]


def run_batch_sweep(
    trial: Trial, batch_sizes: Sequence[int], timeout_s: float = 900.0, decay_on_oom: bool = False
) -> list[dict]:
    """Run the trial isolated at each batch size; an OOM is a row, optionally retried smaller (timm)."""
    rows: list[dict] = []
    for size in batch_sizes:
        got = run_trial_isolated(replace(trial, batch_size=size), timeout_s)
        rows += got
        while decay_on_oom and got[0]["error_type"] == "oom" and (size := decay_batch_step(size)) >= 1:
            if size in batch_sizes:
                break  # the sweep measures it anyway
            got = run_trial_isolated(replace(trial, batch_size=size), timeout_s)
            rows += got
    return rows


def decay_batch_step(batch_size: int, num_intra_steps: int = 2) -> int:
    """Return the next smaller batch size: powers of two with num_intra_steps between (timm's rule)."""
    # timm/utils/decay_batch.py: 256 -> 192 -> 128 -> 96 -> 64 -> ... -> 2 -> 1 -> 0.
    if batch_size <= 1:
        return 0
    base = int(2 ** (math.log(batch_size - 1) // math.log(2)))
    step = max(base // num_intra_steps, 1)
    return base + ((batch_size - base - 1) // step) * step


def error_row(trial: Trial, error: str, error_type: str, duration_s: float, timestamp: str | None = None) -> dict:
    """Return the row of a failed trial: identity and env, no figures."""
    return {**identity(trial, timestamp or utc_timestamp(), duration_s, error, error_type), **collect_env(trial.device)}


def step_config(trial: Trial) -> StepConfig:
    """Return the StepConfig that runs a trial's model the way the trial says."""
    return StepConfig(
        device=trial.device,
        mode=trial.mode,
        batch_size=trial.batch_size,
        input_size=trial.input_size,
        in_channels=trial.spec.in_channels,
        precision=trial.precision,
        channels_last=trial.channels_last,
        cudnn_benchmark=trial.cudnn_benchmark,
        compile=trial.compile,
        budget_s=trial.budget_s,
        target_rel_ci=trial.target_rel_ci,
        seed=trial.seed,
    )


def _counts(trial: Trial) -> list[dict]:
    c = measure_counts(trial.spec, trial.input_size)
    return [{k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(c).items()}]


def _latency(trial: Trial) -> list[dict]:
    s = measure_latency(create_model(trial.spec), step_config(trial))
    name = torch.cuda.get_device_name(trial.device) if trial.device == "cuda" else ""
    u = utilisation(
        s.median_s,
        trial.batch_size,
        analyse(trial.spec, trial.input_size).macs,
        mode=trial.mode,
        device=trial.device,
        precision=trial.precision,
        device_name=name,
    )
    ms = {f"latency_ms_{k}": getattr(s, f"{a}_s") * 1e3 for k, a in _QUANTILES}
    return [
        {
            **ms,
            "latency_ms_std": s.std_s * 1e3 if math.isfinite(s.std_s) else None,
            "latency_n": s.n,
            "latency_samples_ms": [x * 1e3 for x in s.samples_s],
            **dataclasses.asdict(u),
            "compile_s": s.compile_s,
            "threads": s.threads,
        }
    ]


_QUANTILES = (
    ("p50", "median"),
    ("p10", "p10"),
    ("p90", "p90"),
    ("q25", "q25"),
    ("q75", "q75"),
    ("iqr", "iqr"),
    ("mean", "mean"),
)


def _memory(trial: Trial) -> list[dict]:
    m = measure_memory(trial.spec, step_config(trial))
    a = m.analytic
    return [
        {
            "mem_weights_mb": m.weights_mb,
            "mem_peak_alloc_mb": m.peak_alloc_mb,
            "mem_peak_reserved_mb": m.peak_reserved_mb,
            "mem_rss_peak_mb": m.rss_peak_mb,
            "mem_analytic_mb": a.total_mb,
            "mem_analytic_weights_mb": a.weights_mb,
            "mem_analytic_activations_mb": a.activations_mb,
            "mem_analytic_grads_mb": a.grads_mb,
            "mem_analytic_optimizer_mb": a.optimizer_mb,
        }
    ]


def _accuracy(trial: Trial) -> list[dict]:
    # The trial is fitted (fit_trial): its spec, input size, batch size, precision and layout are
    # what trains, so the row's columns are the trial's own.
    from vggablate.data import load_dataset
    from vggablate.training.trainer import run_row

    recipe = replace(trial.train, bf16=trial.precision == "bf16", channels_last=trial.channels_last)
    data = load_dataset(trial.dataset, trial.data_dir, download=trial.download, device=trial.device)
    bn_twin = trial.spec.batch_norm and not trial.planned_as.spec.batch_norm  # BatchNorm added by the recipe
    progress = os.environ.get(PROGRESS_ENV) == "1"
    return [run_row(trial.spec, data, recipe, trial.device, trial.seed, progress=progress, bn_twin=bn_twin)]


def _layers(trial: Trial) -> list[dict]:
    from vggablate.measure.layers import layer_rows  # per-layer profile: one row per layer (issue 14)

    name = torch.cuda.get_device_name(trial.device) if trial.device == "cuda" else ""
    return layer_rows(trial.spec, step_config(trial), name)


# kind -> runner(trial) -> figure dicts, one per row.
RUNNERS: dict[str, Callable[[Trial], list[dict]]] = {
    "counts": _counts,
    "latency": _latency,
    "memory": _memory,
    "accuracy": _accuracy,
    "layers": _layers,
}
