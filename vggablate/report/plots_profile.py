"""Plots of the ``layers`` rows: a per-layer roofline and time share beside MAC share. No torch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from vggablate.report.plotkit import Palette, new_fig
from vggablate.report.profile_tables import profile_settings

MAX_PANELS = 4  # settings drawn side by side; a sweep's further settings are in the tables
KERNEL_COLORS = dict(zip(("3x3", "5x5", "7x7", "1x1", "linear"), sns.color_palette("tab10", 5)))


def _title(g: pd.DataFrame) -> str:
    r = g.iloc[0]
    return f"{r['arch']} {r['mode']} b{int(r['batch_size'])} {r['precision']} {int(r['input_size'])}px"


def _kernel_label(row: pd.Series) -> str:
    return "linear" if row["layer_kind"] == "linear" else f"{int(row['layer_kernel'])}x{int(row['layer_kernel'])}"


def plot_roofline(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """Per-layer roofline: achieved GFLOP/s vs FLOPs per byte under the measured matmul and triad roofs."""
    settings = profile_settings(frame)[:MAX_PANELS]
    if not settings:
        return None
    fig, axes = new_fig(len(settings), 4.6, 4.2)
    for ax, g in zip(axes, settings):
        pts = g[g["layer_kind"].isin(("conv", "linear")) & (g["layer_gflops"].astype(float) > 0)]
        if pts.empty:
            continue
        peak = float(g["peak_tflops_measured"].iloc[0]) * 1e3  # GFLOP/s
        bw = float(g["bandwidth_gbs_measured"].iloc[0])  # GB/s
        x = pts["layer_intensity"].astype(float)
        xs = np.logspace(np.log10(max(min(x.min(), peak / bw) / 4, 1e-3)), np.log10(x.max() * 4), 200)
        ax.plot(xs, np.minimum(peak, bw * xs), color="0.3", lw=1.5)
        ax.text(xs[-1], peak, f"matmul {peak:,.0f} GFLOP/s", ha="right", va="bottom", fontsize=8)
        ax.text(xs[0], bw * xs[0], f"triad {bw:,.0f} GB/s", ha="left", va="bottom", fontsize=8, rotation=30)
        for label, sub in pts.groupby(pts.apply(_kernel_label, axis=1)):
            ax.scatter(sub["layer_intensity"], sub["layer_gflops"], s=40, color=KERNEL_COLORS.get(label, "0.5"),
                       edgecolor="white", label=label, zorder=3)  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("arithmetic intensity (FLOPs per byte)")
        ax.set_ylabel("achieved GFLOP/s")
        ax.set_title(_title(g), fontsize=9)
    handles = [Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in KERNEL_COLORS.items()]
    fig.legend(handles=handles, loc="outside right upper", frameon=False, title="layer")
    return fig


def plot_layer_shares(frame: pd.DataFrame, pal: Palette) -> Figure | None:
    """Per-layer time share beside MAC share; where the bars diverge the kernels run below average."""
    settings = profile_settings(frame)[:MAX_PANELS]
    if not settings:
        return None
    fig = Figure(figsize=(10, 2.6 * len(settings) + 0.6), layout="constrained")
    axes = fig.subplots(len(settings), 1, squeeze=False)[:, 0]
    for ax, g in zip(axes, settings):
        g = g[g["layer_kind"] != "dropout"]
        xs = np.arange(len(g))
        ax.bar(xs - 0.2, g["layer_time_share"].astype(float) * 100, 0.4, label="time share", color="tab:red")
        ax.bar(xs + 0.2, g["layer_mac_share"].astype(float).fillna(0) * 100, 0.4, label="MAC share", color="tab:blue")
        labels = [n if n == k else f"{n} {k}" for n, k in zip(g["layer"], g["layer_kind"])]
        ax.set_xticks(xs, labels, rotation=90, fontsize=6)
        ax.set_ylabel("% of the whole")
        ax.set_title(_title(g), fontsize=9)
    axes[0].legend(loc="upper right", frameon=False)
    return fig


PROFILE_PLOTS = (("layer_roofline", plot_roofline), ("layer_shares", plot_layer_shares))
