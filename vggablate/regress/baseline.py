"""Baselines: the figures worth gating, per setting, with the machine fingerprint; read from a run or a file.

A baseline file (``results/baselines/NAME.json``) holds, per setting (arch, kind, mode, batch
size, precision, input size, device, ...), the exact counts, the peak-memory figures and the raw
latency samples of a run, plus where they were measured: the machine (device, CPU, threads),
which decides whether latency can be compared at all, and the software (torch, CUDA, ...), which
is what a gate is often meant to catch and so is reported, never refused. Never imports torch.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vggablate.checks.outputs import JOURNAL
from vggablate.errors import UsageError
from vggablate.run.records import atomic_write_text, latest_attempts, read_rows
from vggablate.run.trial import non_defaults
from vggablate.schema import ARCH_FIXED, RUN_COLUMNS, SETTING_KEYS, UNLABELLED

FORMAT = "vggablate-baseline/1"
# What identifies a setting: a change in any of these makes two results a different experiment.
SETTING_FIELDS = tuple(k for k in SETTING_KEYS if k not in ARCH_FIXED)
# Counts do not depend on how a model is run, only on what it is and the size of its input.
COUNT_FIELDS = tuple(k for k in SETTING_FIELDS if k not in RUN_COLUMNS or k == "input_size")
COUNT_METRICS = ("params", "macs", "conv_layers")
MEMORY_METRICS = (
    "mem_weights_mb", "mem_peak_alloc_mb", "mem_peak_reserved_mb", "mem_rss_peak_mb", "mem_analytic_mb",
    "mem_analytic_weights_mb", "mem_analytic_activations_mb", "mem_analytic_grads_mb", "mem_analytic_optimizer_mb",
)  # fmt: skip
LATENCY_METRIC = "latency_samples_ms"
GATED_KINDS = {"counts": COUNT_METRICS, "memory": MEMORY_METRICS, "latency": (LATENCY_METRIC,)}
# Latency is only comparable on the same hardware with the same thread count.
MACHINE_FIELDS = {"device_name": "env_device_name", "cpu": "env_cpu", "threads": "env_threads"}
# Reported beside a comparison: a torch or driver upgrade is what a gate is for, not a reason to refuse.
SOFTWARE_FIELDS = {
    "torch": "env_torch", "torchvision": "env_torchvision", "cuda": "env_cuda", "cudnn": "env_cudnn",
    "cpu_capability": "env_cpu_capability", "python": "env_python", "platform": "env_platform",
    "git_rev": "env_git_rev",
}  # fmt: skip
# What picks the kernels a figure came from: two runs agree bit for bit only where all of these match.
KERNEL_FIELDS = ("cpu", "cpu_capability", "cudnn")


@dataclass(frozen=True)
class Entry:
    """The gated figures of one setting (or the error that replaced them)."""

    setting: Mapping[str, object]
    metrics: Mapping[str, object]
    error: str | None = None


@dataclass(frozen=True)
class Baseline:
    """Entries by setting label, and where they were measured."""

    entries: Mapping[str, Entry]
    machine: Mapping[str, object] = field(default_factory=dict)
    software: Mapping[str, object] = field(default_factory=dict)
    source: str = ""


def setting_of(row: Mapping) -> dict:
    """Return the identifying settings of a row (fields its kind does not depend on are left out)."""
    fields = COUNT_FIELDS if row.get("kind") == "counts" else SETTING_FIELDS
    return {k: row[k] for k in fields if row.get(k) is not None}


def setting_label(setting: Mapping) -> str:
    """Name a setting in one short line: 'vgg11 latency infer bs8 fp32 224px cpu'."""
    parts = [str(setting.get("arch")), str(setting.get("kind"))]
    parts += [str(setting[k]) for k in ("mode",) if k in setting]
    parts += [f"bs{setting['batch_size']}"] if "batch_size" in setting else []
    parts += [str(setting[k]) for k in ("precision",) if k in setting]
    parts += [f"{setting['input_size']}px"] if "input_size" in setting else []
    parts += [str(setting[k]) for k in ("device",) if k in setting]
    parts += [f"w{setting['width']:g}"] if setting.get("width") not in (None, 1, 1.0) else []
    parts += [f"head={setting['head']}", f"classes={setting.get('num_classes')}"] if "head" in setting else []
    parts += [flag for flag in ("channels_last", "compile") if setting.get(flag)]
    spelled = ("arch", "kind", "mode", "batch_size", "precision", "input_size", "device", "width", "head",
               "num_classes", "channels_last", "compile", *UNLABELLED)  # fmt: skip
    return " ".join(parts + non_defaults(setting, [k for k in setting if k not in spelled]))


def from_rows(rows: list[dict], source: str = "") -> Baseline:
    """Collect the gated figures of counts, memory and latency rows (latest attempt of each trial)."""
    entries: dict[str, Entry] = {}
    rows = [r for r in latest_attempts(rows) if r.get("kind") in GATED_KINDS]
    for row in rows:
        setting = setting_of(row)
        label = setting_label(setting)
        if label in entries and entries[label].setting != setting:
            raise UsageError(f"{source}: two settings share the label {label!r}; rename one arch")
        metrics = {m: row[m] for m in GATED_KINDS[row["kind"]] if row.get(m) is not None}
        error = row.get("error")
        entries[label] = Entry(setting, metrics, f"{row.get('error_type') or 'error'}: {error}" if error else None)
    ok = next((r for r in rows if not r.get("error")), rows[0] if rows else {})
    machine = {k: ok.get(col) for k, col in MACHINE_FIELDS.items() if ok.get(col) is not None}
    software = {k: ok.get(col) for k, col in SOFTWARE_FIELDS.items() if ok.get(col) is not None}
    return Baseline(entries, machine, software, source)


def to_json(baseline: Baseline) -> str:
    """Encode a baseline as indented JSON (settings sorted, so diffs of committed files stay small)."""
    data = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "source": baseline.source,
        "machine": dict(baseline.machine),
        "software": dict(baseline.software),
        "settings": [
            {"setting": dict(e.setting), "metrics": dict(e.metrics), **({"error": e.error} if e.error else {})}
            for _, e in sorted(baseline.entries.items())
        ],
    }
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def save(baseline: Baseline, path: str | os.PathLike) -> Path:
    """Write a baseline file atomically (creating its folder); return its path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create folder {str(path.parent)!r}: {exc.strerror}") from None
    atomic_write_text(path, to_json(baseline))
    return path


def from_json(text: str, source: str) -> Baseline:
    """Decode a baseline file; UsageError names what is wrong with it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: not a baseline file (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f'{source}: not a baseline file (no "format": "{FORMAT}")')
    entries: dict[str, Entry] = {}
    for item in data.get("settings", []):
        if not isinstance(item, dict) or not isinstance(item.get("setting"), dict):
            raise UsageError(f"{source}: malformed settings entry {str(item)[:60]!r}")
        entry = Entry(item["setting"], item.get("metrics") or {}, item.get("error"))
        entries[setting_label(entry.setting)] = entry
    return Baseline(entries, data.get("machine") or {}, data.get("software") or {}, source)


def load(path: str | os.PathLike) -> Baseline:
    """Read a baseline file, a run folder or a rows.jsonl journal."""
    path = Path(path)
    if path.is_dir():
        if not (path / JOURNAL).is_file():
            raise UsageError(f"{path}: a folder without rows.jsonl; give a run folder or a baseline .json")
        path = path / JOURNAL
    if not path.is_file():
        raise UsageError(f"{path}: no such baseline file or run folder")
    if path.suffix == ".jsonl":
        return from_rows(read_rows(path), source=str(path.parent if path.name == JOURNAL else path))
    return from_json(path.read_text(encoding="utf-8"), source=str(path))
