"""Shared plotting pieces: the per-arch palette, figure and legend helpers (matplotlib Figures, no pyplot)."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from vggablate.report.fmt import PERCENT, beyond, clip, num
from vggablate.report.tables import col

Palette = dict[str, tuple[float, float, float]]
STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P")
RC = {"svg.fonttype": "none", "svg.hashsalt": "vggablate", "axes.titleweight": "bold"}


def arch_palette(archs: list[str]) -> Palette:
    """Map each arch (sorted) to one colour, used by every plot."""
    names = sorted(set(archs))
    colors = sns.color_palette("tab10" if len(names) <= 10 else "husl", len(names))
    return dict(zip(names, colors))


def new_fig(ncols: int = 1, width: float = 6.0, height: float = 4.2) -> tuple[Figure, list]:
    """Return a constrained-layout Figure with one row of ncols axes (each width x height inches)."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, list(fig.subplots(1, ncols, squeeze=False)[0])


def arch_legend(fig: Figure, pal: Palette, archs: list[str], extra: list | None = None) -> None:
    """Add the figure legend: one colour patch per arch, then any extra handles."""
    handles = [Patch(color=pal[a], label=a) for a in archs] + (extra or [])
    fig.legend(handles=handles, loc="outside right upper", frameon=False)


def numeric(frame: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """Return the rows where every one of cols is a number (as floats), so lines can be drawn."""
    frame = frame.assign(**{c: pd.to_numeric(col(frame, c), errors="coerce") for c in cols})
    return frame.dropna(subset=list(cols))


def ci_yerr(mean: float, lo: float, hi: float, scale: tuple[float, float] = PERCENT) -> tuple[list | None, bool]:
    """Return errorbar's yerr for a CI clipped to the scale (asymmetric), and whether clipping was needed."""
    if not num(lo):
        return None, False
    c_lo, c_hi = clip(lo, hi, scale)
    return [[mean - c_lo], [c_hi - mean]], beyond(lo, hi, scale)


def percent_axis(ax, scale: tuple[float, float] = PERCENT) -> None:
    """Keep a percent y axis inside the scale: autoscale margins would run it past 100% (or below 0)."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(max(lo, scale[0]), min(hi, scale[1]))
