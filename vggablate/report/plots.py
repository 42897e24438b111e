"""The run's figures (seaborn styling on matplotlib Figures), one function per plot, rendered to PNG and SVG.

Figures are built with ``matplotlib.figure.Figure`` rather than pyplot: no global backend or
figure registry (nothing to close, nothing interactive), and the Agg canvas renders them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import pandas as pd
import seaborn as sns
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from vggablate.report.fmt import PERCENT
from vggablate.report.plotkit import RC, Palette, arch_legend, arch_palette, ci_yerr, new_fig, percent_axis
from vggablate.report.plots_perf import memory_ratio, plot_latency, plot_memory
from vggablate.report.plots_profile import PROFILE_PLOTS
from vggablate.report.tables import accuracy_stats, col, large_kernel_pairs, main_input_size, ok_rows
from vggablate.stats import mean_ci
from vggablate.words import plural

__all__ = ["PLOTS", "arch_palette", "caption", "pareto_front", "render", "render_plots"]


def _counts(frame: pd.DataFrame) -> tuple[pd.DataFrame, int | None]:
    size = main_input_size(frame)
    c = ok_rows(frame, "counts")
    c = c[c["input_size"] == size] if size is not None else c
    return c.drop_duplicates("arch").sort_values("arch"), size


def plot_params_macs(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """Stacked bars of params and GMACs per arch: conv (features) vs classifier."""
    c, size = _counts(frame)
    if c.empty or not {"params_conv", "params_classifier", "macs_conv", "macs_classifier"} <= set(c):
        return None
    fig, axes = new_fig(2, 5.2)
    colors = [pal[a] for a in c["arch"]]
    for ax, (what, scale, label) in zip(axes, (("params", 1e6, "parameters (millions)"), ("macs", 1e9, "GMACs"))):
        conv, cls = c[f"{what}_conv"] / scale, c[f"{what}_classifier"] / scale
        ax.bar(c["arch"], conv, color=colors, edgecolor="white")
        ax.bar(c["arch"], cls, bottom=conv, color=colors, alpha=0.45, hatch="//", edgecolor="white")
        ax.set_ylabel(label)
        ax.set_title("Parameters" if what == "params" else f"Compute per image @{size}px")
        ax.tick_params(axis="x", rotation=30)
    parts = [Patch(facecolor="0.35", label="conv (features)"), Patch(facecolor="0.75", hatch="//", label="classifier")]
    fig.legend(handles=parts, loc="outside lower center", ncols=2, frameon=False)
    fig.suptitle("Where the parameters and MACs are (1 MAC = 1 multiply-add)")
    return fig


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Return indices of points not dominated (no other point has fewer GMACs and higher top-1)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def plot_top1_vs_gmacs(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """Top-1 (mean, 95% CI) vs GMACs at the training input size, with the Pareto front."""
    stats = accuracy_stats(frame)
    acc = ok_rows(frame, "accuracy")
    if stats.empty:
        return None
    pts = []  # x: the MACs of the network as trained (width, head, input), carried by its accuracy rows
    for _, s in stats.iterrows():
        mine = acc[acc["arch"] == s["arch"]]
        size = mine["input_size"].iloc[0]
        macs = pd.to_numeric(col(mine, "macs"), errors="coerce").dropna()
        if len(macs) and pd.notna(size):
            pts.append((s["arch"], float(macs.iloc[0]) / 1e9, s, int(size)))
    if not pts:
        return None
    # Small trained models (e.g. width 0.125 at 32px) are better read in MMACs than in GMACs.
    scale, unit = (1e3, "MMACs") if max(p[1] for p in pts) < 0.1 else (1.0, "GMACs")
    fig, (ax,) = new_fig(1, 7.0, 4.6)
    clipped = False
    for arch, x, s, _ in pts:
        err, cut = ci_yerr(s["top1"], s["lo"], s["hi"])
        clipped |= cut
        # clip_on=False: a point or cap at 100% sits on the axis edge, drawn whole.
        ax.errorbar(x * scale, s["top1"], yerr=err, fmt="o", ms=7, capsize=4, color=pal[arch], clip_on=False)
        ax.annotate(arch, (x * scale, s["top1"]), xytext=(6, 4), textcoords="offset points", fontsize=9)
    front = [pts[i] for i in pareto_front([(p[1], p[2]["top1"]) for p in pts])]
    fx, fy = [p[1] * scale for p in front], [p[2]["top1"] for p in front]
    ax.plot(fx, fy, "--", color="0.4", lw=1.2, zorder=1)
    # Ringed points: the front stays visible when it has a single member.
    ax.scatter(
        fx, fy, s=170, facecolors="none", edgecolors="0.15", lw=1.4, zorder=4, label="Pareto front", clip_on=False
    )
    percent_axis(ax)
    ax.set_xlabel(f"{unit} per image, as trained (@{pts[0][3]}px)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(f"Accuracy vs compute ({seeds_label(stats['n'])})" + _clip_line(clipped))
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def seeds_label(ns: pd.Series) -> str:
    """Say what a top-1 point is over the archs' seed counts: 'mean ± 95% CI over 3 seeds', 'one seed: no CI'."""
    n = int(ns.max())
    if n == 1:
        return "one seed each: no CI"
    return f"mean ± 95% CI over {'' if ns.nunique() == 1 else 'up to '}{plural(n, 'seed')}"


def _clip_line(clipped: bool) -> str:
    lo, hi = PERCENT
    return f"\nCIs past {lo:g}-{hi:g}% drawn clipped to it (too few seeds for the spread)" if clipped else ""


def _curves(acc: pd.DataFrame) -> pd.DataFrame:
    points = [
        {"arch": r["arch"], "seed": r.get("seed"), **p}
        for _, r in acc.iterrows()
        if isinstance(r.get("curve"), list)
        for p in r["curve"]
        if isinstance(p, dict)
    ]
    return pd.DataFrame(points)


def plot_curves(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """Test top-1 and train loss per epoch: mean over seeds with a 95% CI band."""
    pts = _curves(ok_rows(frame, "accuracy"))
    metrics = [m for m in ("test_top1", "train_loss") if m in pts]
    if pts.empty or "epoch" not in pts or not metrics:
        return None
    fig, axes = new_fig(len(metrics), 5.2)
    labels = {"test_top1": "test top-1 accuracy (%)", "train_loss": "train loss (cross-entropy)"}
    # The band stays inside what the metric can be: top-1 in 0-100%, a loss at or above 0.
    bounds = {"test_top1": PERCENT, "train_loss": (0.0, math.inf)}
    clipped = False
    for ax, metric in zip(axes, metrics):
        floor, ceil = bounds[metric]
        for arch, g in pts.groupby("arch"):
            cis = [(e, mean_ci(v[metric].tolist())) for e, v in g.groupby("epoch")]
            xs, mean = [e for e, _ in cis], [c.mean for _, c in cis]
            lo, hi = [max(c.lo, floor) for _, c in cis], [min(c.hi, ceil) for _, c in cis]
            clipped |= any(c.lo < floor or c.hi > ceil for _, c in cis)
            ax.plot(xs, mean, color=pal[arch], label=arch, marker="o", ms=3, clip_on=False)
            ax.fill_between(xs, lo, hi, color=pal[arch], alpha=0.18)
        percent_axis(ax, (floor, ceil))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(labels[metric])
        ax.set_title(labels[metric].split(" (")[0].capitalize() + " per epoch")
    band = "band = 95% CI, clipped to what the metric can be" if clipped else "band = 95% CI"
    seeds = pts.groupby("arch")["seed"].nunique()
    over = ("" if seeds.nunique() == 1 else "up to ") + plural(int(seeds.max()), "seed")
    fig.suptitle(f"Training curves (mean over {over}, {band})")
    arch_legend(fig, pal, sorted(pts["arch"].unique()))
    return fig


def plot_stages(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """Per-stage MACs and params per arch, stacked by stage (stages end at max-pools)."""
    c, size = _counts(frame)
    if c.empty or "stage_macs" not in c or not c["stage_macs"].map(lambda v: isinstance(v, list)).any():
        return None
    c = c[c["stage_macs"].map(lambda v: isinstance(v, list))]
    n = max(len(v) for v in c["stage_macs"])
    colors = sns.color_palette("crest", n)
    fig, axes = new_fig(2, 5.2)
    for ax, (key, scale, label) in zip(axes, (("stage_macs", 1e9, "GMACs"), ("stage_params", 1e6, "params (M)"))):
        if key not in c:
            continue
        bottom = [0.0] * len(c)
        for s in range(n):
            vals = [(v[s] if isinstance(v, list) and s < len(v) else 0) / scale for v in c[key]]
            ax.bar(c["arch"], vals, bottom=bottom, color=colors[s], edgecolor="white", label=f"stage {s + 1}")
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set_ylabel(f"{label} per image @{size}px" if key == "stage_macs" else label)
        ax.set_title(f"Conv {label.split(' ')[0]} per stage")
        ax.tick_params(axis="x", rotation=30)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", frameon=False)
    return fig


def plot_pairs(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """3x3 vs large-kernel pairs side by side: params, GMACs and top-1 (95% CI)."""
    pairs = large_kernel_pairs(sorted(set(frame["arch"].dropna())) if "arch" in frame else [])
    c, size = _counts(frame)
    stats = accuracy_stats(frame).drop_duplicates("arch").set_index("arch")
    panels = [("params", 1e6, "parameters (millions)", "Parameters")] if col(c, "params").notna().any() else []
    panels += [("macs", 1e9, f"GMACs per image @{size}px", "Compute")] if col(c, "macs").notna().any() else []
    trained = sorted({int(v) for v in col(ok_rows(frame, "accuracy"), "input_size").dropna()})
    as_trained = f" (as trained @{'/'.join(map(str, trained))}px)" if trained and trained != [size] else ""
    panels += [("top1", 1, "top-1 accuracy (%), mean ± 95% CI", "Top-1 accuracy" + as_trained)] if len(stats) else []
    if not pairs or not panels:
        return None
    fig, axes = new_fig(len(panels), 4.2, 4.4)
    order = [a for pair in pairs for a in pair]
    xs = [i + i // 2 * 0.6 for i in range(len(order))]  # a gap between pairs
    colors = [pal[a] for a in order]
    clipped = False
    for ax, (key, scale, label, title) in zip(axes, panels):
        if key == "top1":  # points, not bars: a bar's length from a cut axis would exaggerate the gap
            for x, a, color in zip(xs, order, colors):
                if a in stats.index:
                    s = stats.loc[a]
                    err, cut = ci_yerr(s["top1"], s["lo"], s["hi"])
                    clipped |= cut
                    ax.errorbar(x, s["top1"], yerr=err, fmt="o", ms=8, capsize=5, color=color, clip_on=False)
            percent_axis(ax)
        else:
            src = pd.Series(col(c, key).values, index=c["arch"])
            ax.bar(xs, [src.get(a, math.nan) / scale for a in order], width=0.7, color=colors, edgecolor="white")
        ax.set_xticks(xs, order, rotation=30, ha="right")
        ax.set_xlim(xs[0] - 0.8, xs[-1] + 0.8)
        ax.set_ylabel(label)
        ax.set_title(title)
    fig.suptitle("3x3 stacks vs their large-kernel rewrite (same receptive field)" + _clip_line(clipped))
    return fig


PLOTS: tuple[tuple[str, Callable[[pd.DataFrame, Palette], Figure | None]], ...] = (
    ("params_macs", plot_params_macs),
    ("stage_breakdown", plot_stages),
    ("latency_throughput", plot_latency),
    ("memory", plot_memory),
    ("top1_vs_gmacs", plot_top1_vs_gmacs),
    ("training_curves", plot_curves),
    ("kernel_pairs", plot_pairs),
    *PROFILE_PLOTS,
)


def render(fig: Figure) -> tuple[bytes, bytes]:
    """Render a figure to PNG and SVG bytes (no timestamps, so rebuilds are byte-stable)."""
    out = []
    for fmt, meta in (("png", {"Software": None}), ("svg", {"Date": None})):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=110, metadata=meta)
        out.append(buf.getvalue())
    return out[0], out[1]


# Caption figures computed from the plotted rows, appended to the docstring's first sentence.
CAPTION_FIGURES: dict[str, Callable[[pd.DataFrame], str]] = {"memory": memory_ratio}


def caption(name: str, fn: Callable, frame: pd.DataFrame) -> str:
    """Return a plot's caption: its docstring's first clause, then any figure computed from the data."""
    text = (fn.__doc__ or name).split(";")[0].rstrip(".")
    extra = CAPTION_FIGURES[name](frame) if name in CAPTION_FIGURES else ""
    return f"{text}; {extra}" if extra else text


def render_plots(frame: pd.DataFrame, pal: Palette) -> list[tuple[str, str, bytes, bytes]]:
    """Return (name, caption, png, svg) for every plot whose data is present."""
    out = []
    with rc_context(RC), sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        for name, fn in PLOTS:
            fig = fn(frame, pal)
            if fig is not None:
                out.append((name, caption(name, fn, frame), *render(fig)))
    return out
