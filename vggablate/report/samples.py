"""Sample grids of generated data sets (the cluttered digits), for docs and the run report; no torch."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from vggablate.clutter import is_clutter, make_clutter, parse_clutter, sample_grid
from vggablate.report.plots import render

ROWS, COLS = 4, 8


def clutter_grid(name: str = "clutter", split: str = "train", rows: int = ROWS, cols: int = COLS) -> Figure:
    """Draw rows x cols images of a clutter data set's split, each titled with its label."""
    params = parse_clutter(name)
    train, test = make_clutter(params)
    images, labels = sample_grid(train if split == "train" else test, rows, cols)
    fig = Figure(figsize=(cols * 1.1, rows * 1.25 + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < len(labels):
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(str(int(labels[i])), fontsize=9)
    fig.suptitle(f"{params.name} ({split} split)", fontsize=9)
    return fig


def clutter_grid_bytes(name: str = "clutter", split: str = "train") -> tuple[bytes, bytes]:
    """Return the sample grid as (png, svg) bytes."""
    return render(clutter_grid(name, split))


def report_samples(frame: pd.DataFrame) -> list[tuple[str, str, bytes, bytes]]:
    """Return (name, caption, png, svg) of a sample grid for every clutter data set the run trained on."""
    if "dataset" not in frame or "kind" not in frame:
        return []
    names = frame.loc[frame["kind"] == "accuracy", "dataset"].dropna().astype(str).unique()
    out = []
    for i, name in enumerate(sorted(n for n in names if is_clutter(n))):
        png, svg = clutter_grid_bytes(name)
        caption = f"Samples of {name} (train split; label above each image): the task the accuracy rows trained on"
        out.append((f"samples_{i}" if i else "samples", caption, png, svg))
    return out
