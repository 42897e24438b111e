"""SweepConfig: the resolved grid of a run (archs x settings), its defaults and its TOML form.

Precedence: device defaults < ``--config sweep.toml`` < command-line flags. The resolved
config is saved as ``config.toml`` in the run folder, and ``--resume`` reads it back.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from vggablate.checks import names
from vggablate.checks.choices import check_choice, check_choices
from vggablate.checks.numbers import MAX_EPOCHS, MAX_FLOAT, MAX_INT, MAX_SECONDS, MAX_SEEDS, check_number
from vggablate.checks.tomlfile import read_toml
from vggablate.errors import UsageError
from vggablate.schema import DEVICES, HEADS, MODES, PRECISIONS, schedule_name

METRICS = ("params", "macs", "latency", "memory", "accuracy")
# Asked for by name only (not in the default "all"): the per-layer profile, one row per layer.
OPT_IN_METRICS = ("layers",)


@dataclass(frozen=True)
class SweepConfig:
    """Everything that decides which trials a run holds and how each is measured."""

    archs: tuple[str, ...]  # registered names, glob patterns or cfg strings, as given
    metrics: tuple[str, ...] = METRICS
    device: str = "cpu"
    batch_sizes: tuple[int, ...] = (1,)
    input_size: int = 224  # latency, memory and counts; accuracy uses the data set's own size
    precisions: tuple[str, ...] = ("fp32",)
    channels_last: bool = False
    compile: bool = False
    modes: tuple[str, ...] = ("infer",)
    dataset: str = "digits"  # a bare config's; a run's default is the catalog's, via device_defaults
    epochs: float | None = None  # None: the trainer's default for the data set and device
    seeds: int = 1
    # Recipe overrides (`bench train`'s flags); None: the trainer's default for the data set and device.
    steps: int | None = None  # budget in optimizer steps, overriding epochs
    train_batch_size: int | None = None
    lr: float | None = None
    schedule: str | None = None
    target_top1: float | None = None  # report the training time to reach this test top-1 (percent)
    widths: tuple[float, ...] = ()  # empty: each arch's own width (and the trainer's default)
    head: str | None = None  # None: each arch's own head (gap for small training inputs)
    batch_norm: bool | None = None  # None: each arch's own; True/False: BatchNorm after every conv or none
    num_classes: int | None = None  # None: each arch's own; accuracy trials always use the data set's classes
    arch_files: tuple[str, ...] = ()
    data_dir: str | None = None
    download: bool = True  # fetch a missing data set (CIFAR); False: refuse, for offline machines
    timeout_s: float = 900.0  # per trial: a hang becomes an error row, not a dead sweep
    latency_budget_s: float = 2.0  # per latency trial, after warm-up
    name: str = ""


def device_defaults(device: str, data_dir: str | None = None) -> dict[str, Any]:
    """Return the defaults that depend on the device: laptop-sized on CPU, GPU-sized on CUDA."""
    from vggablate.data.catalog import default_dataset

    dataset = default_dataset(device, data_dir)  # the catalog's DEFAULTS: the first one here
    if device == "cuda":
        return {"batch_sizes": (1, 32, 128), "precisions": ("bf16",), "channels_last": True,
                "modes": MODES, "dataset": dataset, "latency_budget_s": 2.0}  # fmt: skip
    # CPU: one image at a time, both modes; `run --archs vgg11,vgg16` < 150 s on 2 cores (docs/benchmarks.md).
    return {"batch_sizes": (1,), "precisions": ("fp32",), "channels_last": False, "modes": MODES,
            "dataset": dataset, "latency_budget_s": 1.5}  # fmt: skip


_TUPLE_FIELDS = {"archs": str, "metrics": str, "batch_sizes": int, "precisions": str, "modes": str,
                 "widths": float, "arch_files": str}  # fmt: skip
# Every other field's TOML type, checked strictly: "yes" is no boolean, "8" no integer, nan no number.
_SCALAR_FIELDS = {"device": str, "input_size": int, "channels_last": bool, "compile": bool, "dataset": str,
                  "epochs": float, "seeds": int, "steps": int, "train_batch_size": int, "lr": float,
                  "schedule": str, "target_top1": float, "head": str, "batch_norm": bool, "num_classes": int,
                  "data_dir": str, "download": bool, "timeout_s": float, "latency_budget_s": float,
                  "name": str}  # fmt: skip
_TYPE_WORDS = {str: "a string", int: "a whole number", float: "a finite number", bool: "a boolean (true or false)"}
_LIST_WORDS = {str: "strings", int: "whole numbers", float: "finite numbers"}
# TOML keys accepted as aliases of the plural fields (a single value or a list).
_ALIASES = {"batch_size": "batch_sizes", "precision": "precisions", "mode": "modes", "width": "widths",
            "arch_file": "arch_files"}  # fmt: skip
# The spelling the README's sweep-file examples use, for the "unknown key" message.
_SHOWN = {"precisions": "precision", "modes": "mode", "widths": "width"}


def from_mapping(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Check and normalise a mapping of config keys (from TOML or flags) into SweepConfig fields."""
    names = {f.name for f in fields(SweepConfig)}
    out: dict[str, Any] = {}
    for given, value in data.items():
        key = _ALIASES.get(given, given)
        if key not in names:
            allowed = ", ".join(sorted(_SHOWN.get(n, n) for n in names))
            raise UsageError(f"{where}: unknown key {key!r}; allowed: {allowed}")
        if key in _TUPLE_FIELDS:
            items = value if isinstance(value, (list, tuple)) else [value]
            if not all(_is(_TUPLE_FIELDS[key], v) for v in items):
                raise UsageError(f"{where}: {given} must be a list of {_LIST_WORDS[_TUPLE_FIELDS[key]]}, got {value!r}")
            value = tuple(float(v) if _TUPLE_FIELDS[key] is float else v for v in items)
        elif value is not None and not _is(_SCALAR_FIELDS[key], value):
            raise UsageError(f"{where}: {given} must be {_TYPE_WORDS[_SCALAR_FIELDS[key]]}, got {value!r}")
        out[key] = float(value) if _SCALAR_FIELDS.get(key) is float and value is not None else value
    return out


def _is(kind: type, value: object) -> bool:
    """Say whether a value has the type exactly (a bool is no int); a float must be finite."""
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def read_sweep_file(path: str | Path) -> dict[str, Any]:
    """Read a sweep TOML file into SweepConfig fields (not yet validated)."""
    path = Path(path)
    data = read_toml(path, "config file")
    return from_mapping(data.get("sweep", data), f"config file {str(path)!r}")


def validate_config(cfg: SweepConfig) -> SweepConfig:
    """Check every field of a resolved config; return it unchanged."""
    if not cfg.archs:
        raise UsageError("no archs given; use --archs vgg11,vgg16 (names, globs or cfg strings)")
    check_choices("metric", cfg.metrics, METRICS + OPT_IN_METRICS)
    check_choices("mode", cfg.modes, MODES)
    check_choices("precision", cfg.precisions, PRECISIONS)
    # A resolved config: "auto" was turned into cpu or cuda (run.device.resolve_device) before this.
    check_choice("device", cfg.device, DEVICES)
    if not cfg.batch_sizes or min(cfg.batch_sizes) < 1:
        raise UsageError(f"batch sizes must be >= 1, got {list(cfg.batch_sizes)}")
    for b in cfg.batch_sizes:
        check_number(b, "batch size", integer=True, minimum=1, maximum=MAX_INT, exclusive_min=False)
    if cfg.input_size < 1:
        raise UsageError(f"input size must be >= 1, got {cfg.input_size}")
    check_number(cfg.input_size, "input size", integer=True, minimum=1, maximum=MAX_INT, exclusive_min=False)
    if cfg.seeds < 1:
        raise UsageError(f"seeds must be >= 1, got {cfg.seeds}")
    check_number(cfg.seeds, "seeds", integer=True, minimum=1, maximum=MAX_SEEDS, exclusive_min=False)
    if cfg.epochs is not None and not (cfg.epochs > 0):  # `not >`: nan is refused too
        raise UsageError(f"epochs must be > 0, got {cfg.epochs}")
    if cfg.epochs is not None:
        check_number(cfg.epochs, "epochs", maximum=MAX_EPOCHS)
    _check_recipe(cfg)
    if any(not (w > 0) for w in cfg.widths):
        raise UsageError(f"width must be > 0, got {list(cfg.widths)}")
    for w in cfg.widths:
        check_number(w, "width", maximum=MAX_FLOAT)
    if cfg.head is not None:
        check_choice("head", cfg.head, HEADS)
    if cfg.num_classes is not None:
        check_number(cfg.num_classes, "num_classes", integer=True, minimum=1, maximum=MAX_INT, exclusive_min=False)
    if not (cfg.timeout_s > 0 and cfg.latency_budget_s > 0):
        raise UsageError("timeout_s and latency_budget_s must be > 0")
    check_number(cfg.timeout_s, "timeout_s", maximum=MAX_SECONDS)
    check_number(cfg.latency_budget_s, "latency_budget_s", maximum=MAX_SECONDS)
    return cfg


def _check_recipe(cfg: SweepConfig) -> None:
    """Check the recipe overrides that are given."""
    for what in ("steps", "train_batch_size"):
        if getattr(cfg, what) is not None:
            check_number(getattr(cfg, what), what, integer=True, minimum=1, maximum=MAX_INT, exclusive_min=False)
    if cfg.lr is not None:
        check_number(cfg.lr, "lr", maximum=MAX_FLOAT)
    if cfg.target_top1 is not None:
        check_number(cfg.target_top1, "target_top1", maximum=100, exclusive_min=False)
    if cfg.schedule is not None:
        schedule_name(cfg.schedule)


def check_name(name: str) -> str:
    """Refuse a run name that is not a plain folder name (names.py's rule); return it."""
    return names.check_name(name, "run name")


def build_config(layers: list[dict[str, Any]]) -> SweepConfig:
    """Merge mappings of fields, later ones winning, into a validated SweepConfig."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({k: v for k, v in layer.items() if v is not None})
    if "archs" not in merged:
        raise UsageError("no archs given; use --archs vgg11,vgg16 or archs = [...] in --config")
    if merged.get("name"):  # given by flag or file (empty: derived from the archs); a saved run's is not rechecked
        check_name(merged["name"])
    return validate_config(SweepConfig(**merged))


def spec_overrides(cfg: SweepConfig) -> dict[str, Any]:
    """Return the arch options the sweep sets on every spec (batch_norm, num_classes), none where unset."""
    given = {"batch_norm": cfg.batch_norm, "num_classes": cfg.num_classes}
    return {k: v for k, v in given.items() if v is not None}


def to_toml(cfg: SweepConfig) -> str:
    """Render a config as TOML (None fields left out, as TOML has no null)."""
    import tomli_w

    data = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items() if v is not None}
    return tomli_w.dumps({"sweep": data})


def differences(a: SweepConfig, b: SweepConfig, ignore: tuple[str, ...] = ("name",)) -> list[str]:
    """Name the fields in which two configs differ."""
    return [f.name for f in fields(SweepConfig) if f.name not in ignore and getattr(a, f.name) != getattr(b, f.name)]


def with_name(cfg: SweepConfig, name: str) -> SweepConfig:
    """Return the config with a run name."""
    return replace(cfg, name=name)
