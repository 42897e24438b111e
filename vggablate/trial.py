"""A Trial (one arch at one setting) and how to run it into rows (docs/design.md, "Rows")."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import torch

from vggablate.analysis import analyse
from vggablate.errors import UsageError
from vggablate.factory import create_model
from vggablate.isolate import run_isolated
from vggablate.measure.counts import measure_counts
from vggablate.measure.env import collect_env
from vggablate.measure.latency import LatencyConfig, measure_latency, thread_count
from vggablate.measure.memory import measure_memory
from vggablate.measure.peaks import utilisation
from vggablate.memcheck import check_model_fits, trial_steps
from vggablate.schema import (
    DEVICES,
    MODES,
    PRECISIONS,
    RUN_COLUMNS,
    check_choice,
    identity_columns,
    resolve_device,
    utc_timestamp,
)
from vggablate.spec import ArchSpec, validate

if TYPE_CHECKING:
    from vggablate.recipe import TrainConfig

# Set to "1" by a driver on a terminal: an accuracy trial's worker then shows its own progress bar.
PROGRESS_ENV = "VGGABLATE_TRIAL_PROGRESS"
# Spec fields that are not settings: renaming a description must not change a trial's id.
_SPEC_NOT_SETTINGS = ("name", "cfg", "description", "tags")
# Trial fields that say where or how, not what is measured: they leave the trial_id (and resume) alone.
_NOT_SETTINGS = ("data_dir", "download")
# TrainConfig fields added after trial ids were first made, with their defaults (see trial_settings).
_LATER_RECIPE_FIELDS = {"bn_twin": False, "curve_test_images": None, "evals_per_epoch": 1}


@dataclass(frozen=True)
class Trial:
    """One measurement of one arch at one setting; every field shapes the figures and the trial_id."""

    spec: ArchSpec
    kind: str = "counts"  # counts | latency | memory | accuracy
    input_size: int = 224
    device: str = "cpu"  # cpu | cuda
    precision: str = "fp32"  # fp32 | tf32 | bf16 | fp16
    channels_last: bool = False
    compile: bool = False
    cudnn_benchmark: bool = False
    mode: str = "infer"  # infer | train
    batch_size: int = 1
    seed: int = 0
    dataset: str = "synthetic"  # counts, latency and memory run on random inputs
    budget_s: float = 2.0  # latency: sampling time budget
    target_rel_ci: float = 0.01  # latency: stop once the median's 95% CI is within +-1%
    threads: int | None = None  # CPU intra-op threads; None: torch's default
    train: TrainConfig | None = None  # accuracy: the training recipe
    data_dir: str | None = None  # accuracy: where the data set is cached; where, not what: not in trial_id
    download: bool = True  # accuracy: fetch a missing data set (False: fail); how, not what: not in trial_id


def trial_settings(trial: Trial) -> dict:
    """Return every setting of a trial as a flat JSON-able dict (what trial_id hashes)."""
    spec = {f.name: getattr(trial.spec, f.name) for f in fields(ArchSpec) if f.name not in _SPEC_NOT_SETTINGS}
    own = {f.name: getattr(trial, f.name) for f in fields(Trial) if f.name not in ("spec", "train", *_NOT_SETTINGS)}
    train = dataclasses.asdict(trial.train) if dataclasses.is_dataclass(trial.train) else trial.train
    if isinstance(train, dict):
        # Recipe fields added after ids were first made are hashed only away from their default, so
        # trial ids (and resume) of the recipes that existed before stay as they were.
        train = {k: v for k, v in train.items() if not (k in _LATER_RECIPE_FIELDS and v == _LATER_RECIPE_FIELDS[k])}
    if isinstance(train, dict) and train.get("schedule") == "linear":
        # Hashed under its old name "onecycle": trial ids made before the rename stay valid, so run
        # folders journaled then still resume.
        train = {**train, "schedule": "onecycle"}
    return {"arch": trial.spec.name, "cfg": trial.spec.cfg_str, **spec, **own, "train": train}


def trial_id(trial: Trial) -> str:
    """Return a short hash of the trial's settings, the same in every process and run."""
    text = json.dumps(trial_settings(trial), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_trial(trial: Trial) -> Trial:
    """Raise UsageError for a setting that cannot run here; return the trial unchanged."""
    check_choice("trial kind", trial.kind, RUNNERS)
    check_choice("device", trial.device, DEVICES)  # resolved: a trial's id must not depend on where it runs
    resolve_device(trial.device)  # refuses cuda where torch sees none
    check_choice("precision", trial.precision, PRECISIONS)
    if trial.precision == "tf32" and trial.device != "cuda":
        raise UsageError("tf32 is a CUDA tensor-core precision; on cpu use fp32 or bf16")
    check_choice("mode", trial.mode, MODES)
    if trial.batch_size < 1:
        raise UsageError(f"batch size must be >= 1, got {trial.batch_size}")
    validate(trial.spec, trial.input_size)
    return trial


def run_trial(trial: Trial) -> list[dict]:
    """Run a trial in this process; return its rows (identity, settings, env and figures)."""
    check_trial(trial)
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
    check_trial(trial)
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


def identity(
    trial: Trial, timestamp: str, duration_s: float, error: str | None = None, error_type: str | None = None
) -> dict:
    """Return the identity and settings columns of a trial's rows (schema.identity_columns)."""
    run = {k: getattr(trial, k) for k in RUN_COLUMNS}
    return identity_columns(trial_id(trial), trial.kind, trial.spec, run, duration_s, timestamp, error, error_type)


def error_row(trial: Trial, error: str, error_type: str, duration_s: float, timestamp: str | None = None) -> dict:
    """Return the row of a failed trial: identity and env, no figures."""
    return {**identity(trial, timestamp or utc_timestamp(), duration_s, error, error_type), **collect_env(trial.device)}


def latency_config(trial: Trial) -> LatencyConfig:
    """Return the LatencyConfig that runs a trial's model the way the trial says."""
    return LatencyConfig(
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
    s = measure_latency(create_model(trial.spec), latency_config(trial))
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
    m = measure_memory(trial.spec, latency_config(trial))
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
    # The trainer fits the spec to the data (classes, channels, small-input head, width) and
    # reports the fitted spec's columns, which override the trial's own in the row.
    from vggablate.train import accuracy_row, default_train_config

    recipe = trial.train if trial.train is not None else default_train_config(trial.dataset, trial.device)
    progress = os.environ.get(PROGRESS_ENV) == "1"
    return [accuracy_row(trial.spec, trial.dataset, recipe, trial.device, trial.seed, trial.data_dir,
                         download=trial.download, progress=progress)]  # fmt: skip


def _layers(trial: Trial) -> list[dict]:
    from vggablate.measure.layers import layer_rows  # per-layer profile: one row per layer (issue 14)

    name = torch.cuda.get_device_name(trial.device) if trial.device == "cuda" else ""
    return layer_rows(trial.spec, latency_config(trial), name)


# kind -> runner(trial) -> figure dicts, one per row.
RUNNERS: dict[str, Callable[[Trial], list[dict]]] = {
    "counts": _counts,
    "latency": _latency,
    "memory": _memory,
    "accuracy": _accuracy,
    "layers": _layers,
}
