"""Performance plots: latency, throughput and peak memory vs batch size, failures marked.

With one batch size there is no trend to draw: the figures are bars per arch and setting instead.
Memory axes start at zero, so that two peaks read in proportion (550 vs 616 MiB is not 10x).
"""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from vggablate.report.fmt import fmt_sig
from vggablate.report.plotkit import MARKERS, STYLES, Palette, arch_legend, new_fig, numeric
from vggablate.report.tables import error_rows, ok_rows, peak_mb, with_setting
from vggablate.schema import SETTING_KEYS
from vggablate.words import plural


def _mark_failures(ax, frame: pd.DataFrame, kind: str, pal: Palette, setting: str | None = None) -> bool:
    """Mark failed batch sizes with an x at the top of the axes; return whether any was drawn."""
    err = with_setting(error_rows(frame))
    err = err[err["kind"] == kind] if len(err) else err
    if setting is not None and len(err):
        err = err[err["setting"] == setting]
    if len(err):  # headroom so the marker sits above the curves instead of on them
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 2.0 if ax.get_yscale() == "log" else hi + 0.12 * (hi - lo))
    for _, r in err.iterrows():
        if isinstance(r.get("batch_size"), (int, float)) and not math.isnan(r["batch_size"]):
            ax.plot(r["batch_size"], 0.96, "X", ms=9, color=pal[r["arch"]], transform=ax.get_xaxis_transform())
    return len(err) > 0


def _failure_handle() -> object:
    return Line2D([], [], ls="", marker="X", color="0.3", ms=8, label="failed (OOM, ...)")


def _style_handles(settings: list[str]) -> list:
    return [
        Line2D([], [], color="0.3", ls=STYLES[i % 4], marker=MARKERS[i % 6], label=s) for i, s in enumerate(settings)
    ]


def _batch_axis(ax, batch_sizes: pd.Series, log_y: bool = False) -> None:
    """Log2 x axis ticked at the measured batch sizes (not 2^k), plain numbers on a log y axis."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    ticks = sorted({int(b) for b in batch_sizes.dropna()})
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("batch size (images)")
    if log_y:
        ax.set_yscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:,.10g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)  # matplotlib's default writes short ranges as 6x10^2


def plot_latency(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """Latency p50 (p10-p90) and throughput vs batch size, as bars at a single batch size; colour = arch."""
    lat = with_setting(ok_rows(frame, "latency"))
    lat = numeric(lat, "batch_size", "latency_ms_p50")
    if lat.empty:
        return None
    if _one_batch_size(frame, lat, "latency"):
        return _latency_bars(frame, lat, pal)
    settings = sorted(lat["setting"].unique())
    fig, (ax_l, ax_t) = new_fig(2, 5.4, 4.4)
    for (arch, setting), g in lat.sort_values("batch_size").groupby(["arch", "setting"]):
        i = settings.index(setting)
        kw = dict(color=pal[arch], ls=STYLES[i % 4], marker=MARKERS[i % 6], ms=4)
        ax_l.plot(g["batch_size"], g["latency_ms_p50"], **kw)
        if {"latency_ms_p10", "latency_ms_p90"} <= set(g):
            ax_l.fill_between(g["batch_size"], g["latency_ms_p10"], g["latency_ms_p90"], color=pal[arch], alpha=0.12)
        if "throughput_ips" in g:
            ax_t.plot(g["batch_size"], g["throughput_ips"], **kw)
    for ax, label, title in ((ax_l, "latency p50 (ms)", "Latency"), (ax_t, "throughput (images/s)", "Throughput")):
        _batch_axis(ax, lat["batch_size"], log_y=True)
        ax.set_ylabel(label)
        ax.set_title(f"{title} vs batch size")
    failed = any([_mark_failures(ax, frame, "latency", pal) for ax in (ax_l, ax_t)])
    extra = _style_handles(settings) + ([_failure_handle()] if failed else [])
    arch_legend(fig, pal, sorted(lat["arch"].unique()), extra)
    return fig


def _peaks(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the memory rows that have a peak, as `peak_mb` (MiB), with their setting."""
    mem = numeric(with_setting(ok_rows(frame, "memory")), "batch_size")
    mem["peak_mb"] = [peak_mb(r) for _, r in mem.iterrows()] if len(mem) else []
    return mem[mem["peak_mb"].notna()]


# Two memory rows are the same network and input when these agree; only their mode differs.
_SAME_NET = tuple(k for k in SETTING_KEYS if k != "mode")


def memory_ratio(frame: pd.DataFrame) -> str:
    """Say how much more a training step's peak is than inference's, from the rows (empty without both)."""
    mem = _peaks(frame)
    keys = [c for c in _SAME_NET if c in mem]
    if mem.empty or not {"infer", "train"} <= set(mem["mode"]):
        return ""
    mem = mem.assign(**{k: mem[k].astype(str) for k in keys})  # a null setting must not drop the row
    peaks = mem.pivot_table(index=keys, columns="mode", values="peak_mb", aggfunc="max", dropna=False)
    ratios = (peaks["train"] / peaks["infer"]).dropna() if {"infer", "train"} <= set(peaks) else pd.Series()
    ratios = ratios[ratios > 0]
    if ratios.empty:
        return ""
    spread = f", {ratios.min():.1f}x-{ratios.max():.1f}x" if len(ratios) > 1 else ""
    return (
        f"a training step peaks at {ratios.median():.1f}x the inference peak "
        f"(median of {plural(len(ratios), 'arch and batch size pair')}{spread})"
    )


def plot_memory(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """Peak memory vs batch size (one panel per setting), as bars at a single batch size."""
    mem = _peaks(frame)
    if mem.empty:
        return None
    if _one_batch_size(frame, mem, "memory"):
        return _memory_bars(frame, mem, pal)
    settings = sorted(mem["setting"].unique())
    fig, axes = new_fig(len(settings), 4.6, 4.2)
    failed = False
    for ax, setting in zip(axes, settings):
        for arch, g in mem[mem["setting"] == setting].sort_values("batch_size").groupby("arch"):
            ax.plot(g["batch_size"], g["peak_mb"], color=pal[arch], marker="o", ms=4)
        _batch_axis(ax, mem["batch_size"])
        ax.set_ylim(bottom=0)
        failed |= _mark_failures(ax, frame, "memory", pal, setting)
        ax.set_ylabel("peak memory (MiB)")
        ax.set_title(setting)
    fig.suptitle("Peak memory vs batch size")
    arch_legend(fig, pal, sorted(mem["arch"].unique()), [_failure_handle()] if failed else None)
    return fig


# ---- one batch size: grouped bars, one group per setting, one bar per arch ------------------------
def _one_batch_size(frame: pd.DataFrame, ok: pd.DataFrame, kind: str) -> bool:
    """Say whether the measured and the failed rows of a kind are all at one batch size."""
    err = error_rows(frame)
    failed = err.loc[err["kind"] == kind, "batch_size"] if len(err) and "batch_size" in err else []
    return len(set(ok["batch_size"]) | set(pd.to_numeric(pd.Series(failed), errors="coerce").dropna())) == 1


def _bar_x(settings: list[str], archs: list[str], setting: str, arch: str) -> float:
    width = 0.8 / len(archs)
    return settings.index(setting) - 0.4 + width * (archs.index(arch) + 0.5)


def _bars(ax, rows: pd.DataFrame, value: str, pal: Palette, settings: list[str], archs: list[str]) -> None:
    """Draw one bar per arch and setting, its value written on it; p10-p90 whiskers for latency."""
    width = 0.8 / len(archs)
    for arch, g in rows.groupby("arch"):
        g = g.drop_duplicates("setting", keep="last")
        xs = [_bar_x(settings, archs, s, arch) for s in g["setting"]]
        yerr = None
        if value == "latency_ms_p50" and {"latency_ms_p10", "latency_ms_p90"} <= set(g):
            spread = [g[value] - g["latency_ms_p10"], g["latency_ms_p90"] - g[value]]
            yerr = [list(s.clip(lower=0).fillna(0)) for s in spread]
        bars = ax.bar(xs, g[value], width, color=pal[arch], yerr=yerr, capsize=3, ecolor="0.3")
        ax.bar_label(bars, labels=[fmt_sig(v) for v in g[value]], padding=2, fontsize=8)
    ax.set_xticks(range(len(settings)), settings)
    ax.set_xlim(-0.6, len(settings) - 0.4)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.12)  # room for the labels above the bars


def _mark_bar_failures(ax, frame: pd.DataFrame, kind: str, pal: Palette, settings: list[str], archs: list[str]) -> bool:
    """Mark a failed arch and setting with an x where its bar would be; return whether any was drawn."""
    err = with_setting(error_rows(frame))
    err = err[(err["kind"] == kind) & err["setting"].isin(settings) & err["arch"].isin(archs)] if len(err) else err
    for _, r in err.iterrows():
        x = _bar_x(settings, archs, r["setting"], r["arch"])
        ax.plot(x, 0.04, "X", ms=9, color=pal[r["arch"]], transform=ax.get_xaxis_transform())
    return len(err) > 0


def _bar_layout(frame: pd.DataFrame, ok: pd.DataFrame, kind: str) -> tuple[list[str], list[str]]:
    """Return the settings and archs of the bars: those measured and those that failed."""
    err = with_setting(error_rows(frame))
    err = err[err["kind"] == kind] if len(err) else err
    settings = sorted(set(ok["setting"]) | set(err.get("setting", [])))
    return settings, sorted(set(ok["arch"]) | set(err.get("arch", [])))


def _latency_bars(frame: pd.DataFrame, lat: pd.DataFrame, pal: Palette) -> Figure:
    """Latency p50 (p10-p90 whiskers) and throughput of one batch size: bars per arch and setting."""
    settings, archs = _bar_layout(frame, lat, "latency")
    fig, (ax_l, ax_t) = new_fig(2, max(4.6, 1.2 + 1.1 * len(settings) * max(1, len(archs) / 2)), 4.4)
    _bars(ax_l, lat, "latency_ms_p50", pal, settings, archs)
    if "throughput_ips" in lat:
        _bars(ax_t, lat[lat["throughput_ips"].notna()], "throughput_ips", pal, settings, archs)
    bs = int(lat["batch_size"].iloc[0])
    for ax, label, title in ((ax_l, "latency p50 (ms)", "Latency"), (ax_t, "throughput (images/s)", "Throughput")):
        ax.set_ylabel(label)
        ax.set_title(f"{title} at batch size {bs}")
    failed = any([_mark_bar_failures(ax, frame, "latency", pal, settings, archs) for ax in (ax_l, ax_t)])
    arch_legend(fig, pal, archs, [_failure_handle()] if failed else None)
    return fig


def _memory_bars(frame: pd.DataFrame, mem: pd.DataFrame, pal: Palette) -> Figure:
    """Peak memory of one batch size: bars per arch and setting, from zero."""
    settings, archs = _bar_layout(frame, mem, "memory")
    fig, (ax,) = new_fig(1, max(4.6, 1.2 + 1.1 * len(settings) * max(1, len(archs) / 2)), 4.4)
    _bars(ax, mem, "peak_mb", pal, settings, archs)
    failed = _mark_bar_failures(ax, frame, "memory", pal, settings, archs)
    ax.set_ylabel("peak memory (MiB)")
    ax.set_title(f"Peak memory at batch size {int(mem['batch_size'].iloc[0])}")
    arch_legend(fig, pal, archs, [_failure_handle()] if failed else None)
    return fig
