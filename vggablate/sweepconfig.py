"""SweepConfig: the resolved grid of a run (archs x settings), its defaults and its TOML form.

Precedence: device defaults < ``--config sweep.toml`` < command-line flags. The resolved
config is saved as ``config.toml`` in the run folder, and ``--resume`` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from vggablate.errors import UsageError
from vggablate.schema import DEVICES, HEADS, MODES, PRECISIONS, check_choice
from vggablate.tomlfile import read_toml

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
# TOML keys accepted as aliases of the plural fields (a single value or a list).
_ALIASES = {"batch_size": "batch_sizes", "precision": "precisions", "mode": "modes", "width": "widths",
            "arch_file": "arch_files"}  # fmt: skip
# The spelling the README's sweep-file examples use, for the "unknown key" message.
_SHOWN = {"precisions": "precision", "modes": "mode", "widths": "width"}
# Run names become folder names: letters, digits and these, no path separators and no "..".
NAME_CHARS = "-_.+=@"
NAME_MAX = 100


def from_mapping(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Check and normalise a mapping of config keys (from TOML or flags) into SweepConfig fields."""
    names = {f.name for f in fields(SweepConfig)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        key = _ALIASES.get(key, key)
        if key not in names:
            allowed = ", ".join(sorted(_SHOWN.get(n, n) for n in names))
            raise UsageError(f"{where}: unknown key {key!r}; allowed: {allowed}")
        if key in _TUPLE_FIELDS:
            items = value if isinstance(value, (list, tuple)) else [value]
            try:
                value = tuple(_TUPLE_FIELDS[key](v) for v in items)
            except (TypeError, ValueError):
                raise UsageError(f"{where}: {key} must be a list of {_TUPLE_FIELDS[key].__name__}") from None
        out[key] = value
    return out


def read_sweep_file(path: str | Path) -> dict[str, Any]:
    """Read a sweep TOML file into SweepConfig fields (not yet validated)."""
    path = Path(path)
    data = read_toml(path, "config file")
    return from_mapping(data.get("sweep", data), f"config file {str(path)!r}")


def validate_config(cfg: SweepConfig) -> SweepConfig:
    """Check every field of a resolved config; return it unchanged."""
    if not cfg.archs:
        raise UsageError("no archs given; use --archs vgg11,vgg16 (names, globs or cfg strings)")
    _check_choices("metric", cfg.metrics, METRICS + OPT_IN_METRICS)
    _check_choices("mode", cfg.modes, MODES)
    _check_choices("precision", cfg.precisions, PRECISIONS)
    # A resolved config: "auto" was turned into cpu or cuda (schema.resolve_device) before this.
    check_choice("device", cfg.device, DEVICES)
    if not cfg.batch_sizes or min(cfg.batch_sizes) < 1:
        raise UsageError(f"batch sizes must be >= 1, got {list(cfg.batch_sizes)}")
    if cfg.input_size < 1:
        raise UsageError(f"input size must be >= 1, got {cfg.input_size}")
    if cfg.seeds < 1:
        raise UsageError(f"seeds must be >= 1, got {cfg.seeds}")
    if cfg.epochs is not None and cfg.epochs <= 0:
        raise UsageError(f"epochs must be > 0, got {cfg.epochs}")
    if any(w <= 0 for w in cfg.widths):
        raise UsageError(f"width must be > 0, got {list(cfg.widths)}")
    if cfg.head is not None:
        check_choice("head", cfg.head, HEADS)
    if cfg.num_classes is not None and cfg.num_classes < 1:
        raise UsageError(f"num_classes must be >= 1, got {cfg.num_classes}")
    if cfg.timeout_s <= 0 or cfg.latency_budget_s <= 0:
        raise UsageError("timeout_s and latency_budget_s must be > 0")
    return cfg


def check_name(name: str) -> str:
    """Refuse a run name that is not a plain folder name (a path, '..', odd characters); return it."""
    bad = sorted({ch for ch in name if not (ch.isalnum() or ch in NAME_CHARS)})
    if bad or ".." in name or len(name) > NAME_MAX:
        bad += [".."] if ".." in name else []
        why = f"contains {', '.join(map(repr, bad))}" if bad else f"is over {NAME_MAX} characters long"
        raise UsageError(f"run name {name!r} {why}; it becomes a folder name: use letters, digits and "
                         f"{' '.join(NAME_CHARS)}, e.g. --name kernels_bs8")  # fmt: skip
    return name


def _check_choices(what: str, values: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise UsageError(f"unknown {what} {', '.join(bad) or '(none)'}; choose from {', '.join(allowed)}")


def build_config(layers: list[dict[str, Any]]) -> SweepConfig:
    """Merge mappings of fields, later ones winning, into a validated SweepConfig."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({k: v for k, v in layer.items() if v is not None})
    if "archs" not in merged:
        raise UsageError("no archs given; use --archs vgg11,vgg16 or archs = [...] in --config")
    check_name(merged.get("name", ""))  # a name given by flag or file; a saved run's is not checked again
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
