"""Shared plotting pieces: the per-arch palette, figure and legend helpers (matplotlib Figures, no pyplot)."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

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
