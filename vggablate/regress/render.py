"""The markdown of a comparison: a header, warnings, one table row per metric and a summary line."""

from __future__ import annotations

from vggablate.regress.baseline import COUNT_METRICS, LATENCY_METRIC
from vggablate.regress.compare import FAILING, Comparison, MetricResult

STATUS_TEXT = {"regressed": "**REGRESSED**", "failed": "**FAILED**", "changed": "changed (allowed)"}


def to_markdown(comparison: Comparison, old_name: str, new_name: str) -> str:
    """Render the comparison as a markdown section (trailing newline included)."""
    lines = [f"## Regression check: `{old_name}` -> `{new_name}`", ""]
    lines += [f"> warning: {w}" for w in comparison.warnings]
    lines += [f"> software: {n}" for n in comparison.notes]
    lines += [f"> note: {comparison.kernels}"] if comparison.kernels else []
    if comparison.warnings or comparison.notes or comparison.kernels:
        lines.append("")
    lines += ["| metric | setting | old | new | change | status |", "|---|---|---:|---:|---:|---|"]
    lines += [_row(r) for r in comparison.results]
    verdict = "REGRESSION" if comparison.regressed else "no regression"
    counts = ", ".join(f"{comparison.count(s)} {s}" for s in _statuses(comparison))
    lines += ["", f"**{verdict}**: {counts}", ""]
    return "\n".join(lines)


def _statuses(comparison: Comparison) -> list[str]:
    seen = dict.fromkeys(r.status for r in comparison.results)
    return [s for s in (*FAILING, "changed", "improved", "ok", "new", "skipped") if s in seen]


def _row(r: MetricResult) -> str:
    status = STATUS_TEXT.get(r.status, r.status)
    if r.note:
        status += f" ({r.note})"
    return f"| {r.metric} | {r.setting} | {_value(r, 'old')} | {_value(r, 'new')} | {_change(r)} | {status} |"


def _value(r: MetricResult, side: str) -> str:
    value = r.old if side == "old" else r.new
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if r.metric == LATENCY_METRIC:
        if r.latency is None:
            return f"n={len(value)}"  # type: ignore[arg-type]
        lat = r.latency
        q, median, n = (lat.old, lat.median_old, lat.n_old) if side == "old" else (lat.new, lat.median_new, lat.n_new)
        if lat.quantile == 0.5:
            return f"median {median:.4g} ms (n={n})"
        return f"p{lat.quantile * 100:g} {q:.4g} ms (median {median:.4g}, n={n})"
    if r.metric in COUNT_METRICS:
        return f"{int(value):,}"  # type: ignore[call-overload]
    return f"{float(value):.4g} MiB"  # type: ignore[arg-type]


def _change(r: MetricResult) -> str:
    if r.change is None:
        return ""
    if r.latency is not None:
        lat = r.latency
        return (f"{r.change:+.1%} [{lat.ratio_lo - 1:+.1%}, {lat.ratio_hi - 1:+.1%}] "
                f"p={lat.p_value:.2g}")  # fmt: skip
    if r.metric in COUNT_METRICS and r.old != r.new:
        return f"{int(r.new) - int(r.old):+,} ({r.change:+.2%})"  # type: ignore[call-overload]
    return f"{r.change:+.1%}"
