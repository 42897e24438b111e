"""The row schema and the valid settings: the one definition that producers, checks and messages read.

Every producer of rows (``trial.identity``, which `bench run`, `bench train` and `bench claims` rows share,
and ``regress/``) builds its identity and settings columns with :func:`identity_columns`, and every
grouping key reads SETTING_KEYS, so a new setting is one edit here (plus the Trial or ArchSpec field
that holds it). Never imports torch (light commands read it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from vggablate.checks.choices import check_choice

# Valid settings; every "unknown X; choose ..." message reads its list from here.
KINDS = ("counts", "latency", "memory", "accuracy", "layers")
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
MODES = ("infer", "train")
HEADS = ("imagenet", "gap")
DEVICES = ("cpu", "cuda")  # what a trial and a row record
DEVICE_CHOICES = ("auto", *DEVICES)  # what a user may ask for; see run.device.resolve_device
ERROR_TYPES = ("oom", "timeout", "crash", "exception")
# An OOM is a measurement (the model does not fit at that batch size); these are not, so
# `--resume --retry-errors` runs them again.
RETRYABLE_ERRORS = frozenset({"timeout", "crash", "exception"})
# "linear": linear warm-up, then linear decay to 0. It was called "onecycle", but it is not torch's
# OneCycleLR (cosine annealing, cycled momentum); the old name is still read from flags and configs.
SCHEDULES = ("linear", "cosine")
SCHEDULE_ALIASES = {"onecycle": "linear"}

# The columns of a row. A producer writes exactly ROW_COLUMNS (plus env and figures); the sweep
# adds ``attempt``. SETTINGS is the spec's part, then the run's, then the outcome's.
SPEC_COLUMNS = ("batch_norm", "width", "head", "num_classes", "in_channels", "dropout", "matched")
RUN_COLUMNS = ("input_size", "device", "precision", "channels_last", "compile", "cudnn_benchmark", "mode",
               "batch_size", "seed", "dataset")  # fmt: skip
OUTCOME_COLUMNS = ("error", "error_type", "duration_s", "timestamp")
IDENTITY = ("trial_id", "attempt", "kind", "arch", "cfg")
SETTINGS = SPEC_COLUMNS + RUN_COLUMNS + OUTCOME_COLUMNS
ROW_COLUMNS = ("trial_id", "kind", "arch", "cfg", *SETTINGS)
# The columns that tell two settings apart: what ran (kind, the arch and its spec) and how (the run's).
# Every grouping key (a report table's, a baseline's) is this less a named subset below, so a new
# SPEC or RUN column joins them all by itself.
SETTING_KEYS = ("kind", "arch", "cfg", *SPEC_COLUMNS, *RUN_COLUMNS)
# Fixed by a registered arch's name: a baseline names a setting by its arch and leaves them out.
# width, head and num_classes are not fixed: flags change them under the same name.
ARCH_FIXED = ("cfg", "batch_norm", "in_channels", "dropout", "matched")
# What the analytic memory estimate does not depend on: it is arithmetic on shapes, dtype and mode,
# never on where or with which kernels the model runs, nor on the inputs' seed and data set.
NOT_ANALYTIC = ("device", "channels_last", "compile", "cudnn_benchmark", "seed", "dataset")
# Left out of a setting's label: a sweep sets it from the device (on for cuda), so the device names it.
UNLABELLED = ("cudnn_benchmark",)
FIGURES = (
    # counts
    "params", "params_trainable", "params_conv", "params_classifier", "weight_mb_fp32", "weight_mb_bf16",
    "macs", "flops", "macs_conv", "macs_classifier", "macs_other", "activations", "conv_layers",
    "stage_params", "stage_macs",
    # latency
    "latency_ms_p50", "latency_ms_p10", "latency_ms_p90", "latency_ms_q25", "latency_ms_q75",
    "latency_ms_iqr", "latency_ms_mean", "latency_ms_std", "latency_n", "latency_samples_ms",
    "throughput_ips", "gflops_achieved", "peak_tflops_spec", "peak_tflops_measured", "mfu_vs_spec",
    "util_vs_measured_gemm", "compile_s", "threads",
    # memory
    "mem_weights_mb", "mem_peak_alloc_mb", "mem_peak_reserved_mb", "mem_rss_peak_mb", "mem_analytic_mb",
    "mem_analytic_weights_mb", "mem_analytic_activations_mb", "mem_analytic_grads_mb",
    "mem_analytic_optimizer_mb",
    # accuracy
    "top1", "top5", "train_loss", "train_time_s", "train_ips", "time_to_target_s", "target_top1", "epochs",
    "steps", "train_batch_size", "lr", "momentum", "weight_decay", "label_smoothing", "schedule",
    "warmup_epochs", "narrow_from", "bn_twin", "curve", "top1_climb",
    # layers (one row per layer of a setting; measure/layers.py)
    "layer_index", "layer", "layer_kind", "layer_stage", "layer_kernel", "layer_in_shape", "layer_out_shape",
    "layer_params", "layer_macs", "layer_macs_fvcore", "layer_flops_fcm", "layer_bytes", "layer_intensity",
    "layer_ms_p50", "layer_ms_q25", "layer_ms_q75", "layer_ms_iqr", "layer_fwd_ms_p50", "layer_bwd_ms_p50",
    "layer_n", "layer_time_share", "layer_mac_share", "layer_flops", "layer_gflops", "layer_util_gemm",
    "profile_sum_ms", "profile_model_ms_p50", "profile_step_ms_p50", "bandwidth_gbs_measured",
    "bandwidth_gbs_spec",
)  # fmt: skip
# The JSON type of each column of IDENTITY, SETTINGS and FIGURES, for reading a journal back
# (records.read_rows): a row with text where a number goes, or a list for a scalar, is damaged and
# skipped instead of crashing a plot. Columns not named below hold numbers; any may be null, except
# NOT_NULL. ENV and unknown columns are not checked: they are shown, never computed with.
TEXT_COLUMNS = frozenset({"trial_id", "kind", "arch", "cfg", "head", "matched", "device", "precision", "mode",
                          "dataset", "error", "error_type", "timestamp", "schedule", "layer",
                          "layer_kind"})  # fmt: skip
FLAG_COLUMNS = frozenset({"batch_norm", "channels_last", "compile", "cudnn_benchmark", "bn_twin"})
NUMBER_LIST_COLUMNS = frozenset({"stage_params", "stage_macs", "latency_samples_ms", "layer_in_shape",
                                 "layer_out_shape"})  # fmt: skip
POINT_LIST_COLUMNS = frozenset({"curve"})  # a list of {name: number} points, one per epoch
INTEGER_COLUMNS = frozenset({"attempt", "input_size", "batch_size", "seed", "num_classes", "in_channels"})
# Every producer writes these (identity_columns); a null one is damage, not a missing figure.
NOT_NULL = frozenset({"kind", "arch"})
# Columns a row of a kind cannot do without: an accuracy row is one seed's result.
NEEDED_BY_KIND = {"accuracy": ("seed",)}

ENV = (
    "env_torch", "env_torchvision", "env_cuda", "env_cudnn", "env_device_name", "env_cpu", "env_cpu_capability",
    "env_threads", "env_git_rev", "env_hostname", "env_python", "env_platform", "env_loadavg_1m",
)  # fmt: skip
_CHECKED = frozenset(IDENTITY + SETTINGS + FIGURES)


def column_problem(name: str, value: object) -> str | None:
    """Say what is wrong with a journal value ("params is 'abc', expected a number"); None if it fits the schema."""
    if name not in _CHECKED:
        return None
    if value is None:
        return f"{name} is null, expected a value" if name in NOT_NULL else None
    if name in TEXT_COLUMNS:
        expected, ok = "text", isinstance(value, str)
    elif name in FLAG_COLUMNS:
        expected, ok = "true or false", isinstance(value, bool)
    elif name in NUMBER_LIST_COLUMNS:
        expected, ok = "a list of numbers", isinstance(value, list) and all(map(_is_number, value))
    elif name in POINT_LIST_COLUMNS:
        expected = "a list of {name: number} points"
        ok = isinstance(value, list) and all(
            isinstance(p, dict) and all(v is None or _is_number(v) for v in p.values()) for p in value
        )
    elif name in INTEGER_COLUMNS:
        expected, ok = "an integer", _is_number(value) and float(value).is_integer()
    else:
        expected, ok = "a number", _is_number(value)
    return None if ok else f"{name} is {_short(value)}, expected {expected}"


def _is_number(value: object) -> bool:
    # bool is an int to Python, not a number to a plot; NaN and inf are never written (encode_row: null).
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def spec_columns(spec: Any) -> dict:
    """Return a spec's columns: arch, cfg and the SPEC_COLUMNS fields."""
    return {"arch": spec.name, "cfg": spec.cfg_str, **{k: getattr(spec, k) for k in SPEC_COLUMNS}}


def run_columns(trial: Any) -> dict:
    """Return the RUN_COLUMNS of anything that has them as attributes (a Trial)."""
    return {k: getattr(trial, k) for k in RUN_COLUMNS}


def identity_columns(
    trial_id: str,
    kind: str,
    spec: Any,
    run: Mapping[str, object],
    duration_s: float,
    timestamp: str,
    error: str | None = None,
    error_type: str | None = None,
) -> dict:
    """Return the ROW_COLUMNS of one row, in schema order; ``run`` must hold exactly RUN_COLUMNS."""
    if set(run) != set(RUN_COLUMNS):
        # A programming error, not bad input: a producer fell out of step with the schema.
        raise ValueError(f"run settings {sorted(set(run) ^ set(RUN_COLUMNS))} differ from schema.RUN_COLUMNS")
    outcome = {"error": error, "error_type": error_type, "duration_s": duration_s, "timestamp": timestamp}
    setting = {"kind": kind, **spec_columns(spec), **{k: run[k] for k in RUN_COLUMNS}}
    return {"trial_id": trial_id, **setting, **outcome}


def schedule_name(name: str) -> str:
    """Return a schedule's current name (an old 'onecycle' is 'linear'); raise UsageError if unknown."""
    name = SCHEDULE_ALIASES.get(name, name)
    check_choice("schedule", name, SCHEDULES)
    return name
