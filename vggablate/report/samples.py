"""Sample grids of the data sets that can show their images without torch (clutter, fashion-mnist); no torch."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from vggablate.data.catalog import Samples, find_dataset
from vggablate.report.plots import render

ROWS, COLS = 4, 8


def dataset_samples(
    name: str, split: str = "train", n: int = ROWS * COLS, data_dir: str | None = None
) -> Samples | None:
    """Return the first images of a data set's split, or None where its entry draws none or its files are absent."""
    entry = find_dataset(name)
    return None if entry is None or entry.samples is None else entry.samples(name, split, n, data_dir)


def sample_figure(samples: Samples, split: str = "train", rows: int = ROWS, cols: int = COLS) -> Figure:
    """Draw rows x cols images, each titled with its label (or class name)."""
    fig = Figure(figsize=(cols * 1.1, rows * 1.25 + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < len(samples.labels):
            label = int(samples.labels[i])
            ax.imshow(samples.images[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(samples.class_names[label] if samples.class_names else str(label), fontsize=9)
    fig.suptitle(f"{samples.title} ({split} split)", fontsize=9)
    return fig


def report_samples(frame: pd.DataFrame) -> list[tuple[str, str, bytes, bytes]]:
    """Return (name, caption, png, svg) of a sample grid for every data set the run trained on that can draw one."""
    if "dataset" not in frame or "kind" not in frame:
        return []
    names = frame.loc[frame["kind"] == "accuracy", "dataset"].dropna().astype(str).unique()
    out = []
    for name in sorted(names):
        samples = dataset_samples(name)
        if samples is None:
            continue
        png, svg = render(sample_figure(samples))
        caption = f"Samples of {name} (train split; label above each image): the task the accuracy rows trained on"
        out.append((f"samples_{len(out)}" if out else "samples", caption, png, svg))
    return out
