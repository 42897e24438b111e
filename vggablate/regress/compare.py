"""Compare a current result with a baseline: every gated metric gets old, new, change and a status.

Statuses: ``regressed`` and ``failed`` (the trial now errors) fail the gate; ``changed`` is a count
change allowed with ``allow_count_change``; ``improved``, ``ok``, ``new`` (no baseline figure) and
``skipped`` (latency across machines, a baseline that errored) pass. Input that cannot be compared
(other archs or settings, a metric missing, too few samples) raises UsageError naming what differs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from vggablate.errors import UsageError
from vggablate.regress.baseline import (
    COUNT_METRICS,
    KERNEL_FIELDS,
    LATENCY_METRIC,
    MEMORY_METRICS,
    Baseline,
    Entry,
)
from vggablate.regress.noise import LatencyChange, LatencyRule, compare_latency

FAILING = ("regressed", "failed")


def is_resident(metric: str, setting: Mapping) -> bool:
    """Say whether a memory figure is a CPU resident-set size (noisy) rather than an allocator or analytic one."""
    return metric == "mem_rss_peak_mb" or (metric == "mem_weights_mb" and setting.get("device") == "cpu")


@dataclass(frozen=True)
class CompareConfig:
    """What counts as a regression."""

    allow_count_change: bool = False  # an intended architecture change: report it, do not fail
    mem_threshold: float = 0.05  # relative growth of a memory figure that fails the gate
    mem_thresholds: tuple[tuple[str, float], ...] = ()  # per-metric overrides of every default
    # CPU resident-set figures are the OS's view of malloc's arenas and of lazily mapped pages:
    # they jitter by a fraction of a MiB between identical runs, so they need a looser relative
    # threshold and an absolute floor; CUDA allocator peaks and the analytic estimate are exact.
    rss_threshold: float = 0.20
    rss_floor_mb: float = 2.0
    latency: LatencyRule = field(default_factory=LatencyRule)
    force: bool = False  # compare latency even when the machines differ

    def threshold(self, metric: str, setting: Mapping) -> tuple[float, float]:
        """Return the relative threshold and the absolute floor (MiB) of a memory figure."""
        resident = is_resident(metric, setting)
        default = self.rss_threshold if resident else self.mem_threshold
        return dict(self.mem_thresholds).get(metric, default), self.rss_floor_mb if resident else 0.0


@dataclass(frozen=True)
class MetricResult:
    """One line of the comparison table (raw values; the markdown is made in to_markdown)."""

    metric: str
    setting: str
    old: object
    new: object
    status: str
    change: float | None = None  # relative: new / old - 1
    latency: LatencyChange | None = None
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    """Every metric's result, and the warnings about the inputs."""

    results: tuple[MetricResult, ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    kernels: str = ""  # the CPU, its kernel set or cuDNN differ: figures agree only statistically

    @property
    def regressed(self) -> bool:
        """Say whether anything fails the gate."""
        return any(r.status in FAILING for r in self.results)

    def count(self, status: str) -> int:
        """Return how many results have a status."""
        return sum(r.status == status for r in self.results)


def compare(old: Baseline, new: Baseline, cfg: CompareConfig = CompareConfig()) -> Comparison:
    """Compare every shared setting's metrics; raise UsageError when the inputs are not comparable."""
    check_comparable(old, new)
    warnings, notes = _environment(old, new)
    latency_ok = cfg.force or not warnings
    results: list[MetricResult] = []
    for label in sorted(old.entries):
        results += _compare_entry(label, old.entries[label], new.entries[label], cfg, latency_ok)
    return Comparison(tuple(results), tuple(warnings), tuple(notes), kernel_note(old, new))


def kernel_note(old: Baseline, new: Baseline) -> str:
    """Say when the two sides ran on different kernels (CPU, its SIMD kernel set, cuDNN); '' when not known to."""
    a, b = {**old.machine, **old.software}, {**new.machine, **new.software}
    # Only where both sides recorded a field: a baseline saved before env_cpu_capability existed says nothing.
    diff = [f"{k} {a[k]} -> {b[k]}" for k in KERNEL_FIELDS if a.get(k) is not None and b.get(k) is not None
            and str(a[k]) != str(b[k])]  # fmt: skip
    if not diff:
        return ""
    return (f"different kernels ({'; '.join(diff)}): figures computed on them agree only statistically, "
            "not bit for bit (README, Reproducibility)")  # fmt: skip


def check_comparable(old: Baseline, new: Baseline) -> None:
    """Raise UsageError (one line) naming the archs, settings or metrics that differ."""
    archs_old = {str(e.setting.get("arch")) for e in old.entries.values()}
    archs_new = {str(e.setting.get("arch")) for e in new.entries.values()}
    if not old.entries or not new.entries:
        empty = "baseline" if not old.entries else "current"
        raise UsageError(f"the {empty} has no counts, memory or latency figures to compare")
    if archs_old != archs_new:
        raise UsageError(f"different archs: {_only(archs_old, archs_new)}")
    labels_old, labels_new = set(old.entries), set(new.entries)
    if labels_old != labels_new:
        raise UsageError(f"different settings: {_only(labels_old, labels_new)}")
    missing = []
    for label, entry in sorted(old.entries.items()):
        other = new.entries[label]
        if entry.error or other.error:
            continue
        missing += [f"{m} ({label})" for m in entry.metrics if m not in other.metrics]
    if missing:
        raise UsageError(f"missing metric(s) in current: {_first(missing)}")


def _only(a: set[str], b: set[str]) -> str:
    parts = []
    if a - b:
        parts.append(f"only in baseline: {_first(sorted(a - b))}")
    if b - a:
        parts.append(f"only in current: {_first(sorted(b - a))}")
    return "; ".join(parts)


def _first(items: list[str], n: int = 3) -> str:
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def _environment(old: Baseline, new: Baseline) -> tuple[list[str], list[str]]:
    """Return warnings (other machine) and notes (other software) about where each side ran."""
    has_latency = any(LATENCY_METRIC in e.metrics for e in old.entries.values())
    keys = sorted(set(old.machine) | set(new.machine))
    diff = [f"{k} {old.machine.get(k)!r} -> {new.machine.get(k)!r}" for k in keys
            if old.machine.get(k) != new.machine.get(k)]  # fmt: skip
    warnings = []
    if diff:
        warnings.append(f"different machine: {', '.join(diff)}; latency is compared only with --force")
    elif has_latency and not (old.machine and new.machine):
        warnings.append("no machine fingerprint on one side; latency is compared only with --force")
    notes = [f"{k} {old.software.get(k)} -> {new.software.get(k)}"
             for k in sorted(set(old.software) | set(new.software))
             if k not in ("git_rev", "cpu_capability") and old.software.get(k) != new.software.get(k)]  # fmt: skip
    return warnings, notes


def _compare_entry(label: str, old: Entry, new: Entry, cfg: CompareConfig, latency_ok: bool) -> list[MetricResult]:
    if old.error:
        return [MetricResult("(trial)", label, old.error, new.error or "ok", "skipped", note="baseline errored")]
    if new.error:
        return [MetricResult("(trial)", label, "ok", new.error, "failed", note="the trial now fails")]
    results = []
    for metric in sorted(set(old.metrics) | set(new.metrics), key=_metric_order):
        a, b = old.metrics.get(metric), new.metrics.get(metric)
        if a is None:
            results.append(MetricResult(metric, label, None, b, "new", note="no baseline figure"))
        elif metric == LATENCY_METRIC:
            results.append(_latency(label, a, b, cfg, latency_ok))
        elif metric in COUNT_METRICS:
            results.append(_count(metric, label, a, b, cfg))
        else:
            results.append(_memory(metric, label, a, b, cfg.threshold(metric, old.setting)))
    return results


def _metric_order(metric: str) -> int:
    order = COUNT_METRICS + MEMORY_METRICS + (LATENCY_METRIC,)
    return order.index(metric) if metric in order else len(order)


def _relative(a: float, b: float) -> float:
    return (b - a) / a if a else (0.0 if b == a else math.inf)


def _count(metric: str, label: str, a: int, b: int, cfg: CompareConfig) -> MetricResult:
    if a == b:
        return MetricResult(metric, label, a, b, "ok", 0.0)
    status = "changed" if cfg.allow_count_change else "regressed"
    return MetricResult(metric, label, a, b, status, _relative(a, b), note="counts are exact")


def _memory(metric: str, label: str, a: float, b: float, limits: tuple[float, float]) -> MetricResult:
    (limit, floor), change = limits, _relative(a, b)
    big = abs(b - a) > floor
    status = "regressed" if big and change > limit else "improved" if big and change < -limit else "ok"
    note = f"threshold {limit:+.0%}" + (f" and {floor:g} MiB" if floor else "")
    return MetricResult(metric, label, a, b, status, change, note=note)


def _latency(label: str, a: list, b: list, cfg: CompareConfig, latency_ok: bool) -> MetricResult:
    if not latency_ok:
        return MetricResult(LATENCY_METRIC, label, a, b, "skipped", note="different machine; use --force")
    try:
        lat = compare_latency(a, b, cfg.latency)
    except ValueError as exc:
        raise UsageError(f"{label}: {exc}") from None
    note = f"min effect {cfg.latency.min_effect:.0%}"
    return MetricResult(LATENCY_METRIC, label, a, b, lat.status, lat.ratio - 1, lat, note)
