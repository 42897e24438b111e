"""Rebuild every derived file of a run folder from its journal, ``rows.jsonl``, alone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from vggablate.checks.outputs import JOURNAL
from vggablate.errors import UsageError
from vggablate.report.html import Image, Section, render_html
from vggablate.report.plots import PLOTS, arch_palette, render_plots
from vggablate.report.samples import report_samples
from vggablate.report.summary import summary_markdown, summary_tables
from vggablate.report.tables import Table, report_frame
from vggablate.run.records import (
    atomic_write_bytes,
    atomic_write_text,
    latest_attempts,
    read_rows,
    to_frame,
    write_tables,
)


def check_run_dir(run_dir: str | Path) -> Path:
    """Return run_dir as a Path if it is a folder holding a journal; raise UsageError otherwise."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise UsageError(f"no run folder at {run_dir}")
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir} is a file; give the run folder that holds {JOURNAL}")
    if not (run_dir / JOURNAL).is_file():
        raise UsageError(f"{run_dir} has no {JOURNAL}; is it a run folder (results/runs/<timestamp>-<name>)?")
    return run_dir


def _first(frame: pd.DataFrame, col: str) -> str:
    values = frame[col].dropna().astype(str).unique() if col in frame else []
    return ", ".join(values[:3]) + (" ..." if len(values) > 3 else "")


def run_header(frame: pd.DataFrame) -> dict[str, str]:
    """Return the report header: date, device, versions, git revision and row counts."""
    stamps = frame["timestamp"].dropna().astype(str).sort_values() if "timestamp" in frame else pd.Series()
    date = f"{stamps.iloc[0][:16]} .. {stamps.iloc[-1][:16]}".replace("T", " ") if len(stamps) else ""
    errors = int(frame["error"].notna().sum()) if "error" in frame else 0
    device, cpu = _first(frame, "env_device_name") or _first(frame, "device"), _first(frame, "env_cpu")
    return {
        "date": date,
        "device": device,
        "cpu": "" if cpu == device else cpu,  # a CPU run's device is the CPU: name it once
        # The kernels the figures came from: runs agree bit for bit only where these match (README).
        "cpu kernels": _first(frame, "env_cpu_capability"),
        "torch": _first(frame, "env_torch"),
        "cuda": _first(frame, "env_cuda"),
        "cudnn": _first(frame, "env_cudnn"),
        "git rev": _first(frame, "env_git_rev"),
        "host": _first(frame, "env_hostname"),
        "rows": f"{len(frame)} ({errors} failed)",
    }


def build_reports(run_dir: str | Path, sections: Sequence[Section] = ()) -> list[Path]:
    """Rebuild rows.csv, rows.parquet, summary.md, report.html and plots/ from rows.jsonl; return the paths."""
    return build_reports_and_tables(run_dir, sections)[0]


def build_reports_and_tables(run_dir: str | Path, sections: Sequence[Section] = ()) -> tuple[list[Path], list[Table]]:
    """Rebuild the reports like build_reports; return the paths and summary.md's tables (for a terminal)."""
    run_dir = check_run_dir(run_dir)
    # A retried trial keeps only its last attempt; the journal itself keeps the whole history.
    frame = to_frame(latest_attempts(read_rows(run_dir / JOURNAL)))
    written = write_tables(run_dir, frame)
    frame = report_frame(frame)  # the report may rely on every identity/settings column existing
    title = f"vggablate run {run_dir.name}"
    header = run_header(frame)
    tables = summary_tables(frame)
    plots_dir = run_dir / "plots"
    plots_dir.mkdir(exist_ok=True)
    pal = arch_palette(list(frame["arch"].dropna().astype(str))) if "arch" in frame else {}
    images = write_plots(plots_dir, render_plots(frame, pal) + report_samples(frame))
    written += [plots_dir / f"{i.name}.{ext}" for i in images for ext in ("png", "svg")]
    _remove_stale_plots(plots_dir, {i.name for i in images})
    atomic_write_text(run_dir / "summary.md", summary_markdown(title, header, tables))
    atomic_write_text(run_dir / "report.html", render_html(title, header, tables, images, sections))
    return written + [run_dir / "summary.md", run_dir / "report.html"], tables


def write_plots(plots_dir: Path, rendered: Iterable[tuple[str, str, bytes, bytes]]) -> list[Image]:
    """Write each rendered (name, caption, png, svg) plot as NAME.png and NAME.svg; return them for the HTML."""
    plots_dir.mkdir(exist_ok=True)
    images = []
    for name, caption, png, svg in rendered:
        atomic_write_bytes(plots_dir / f"{name}.png", png)
        atomic_write_bytes(plots_dir / f"{name}.svg", svg)
        images.append(Image(name, caption, png))
    return images


def _remove_stale_plots(plots_dir: Path, kept: set[str]) -> None:
    # Only our own plot names: a plot whose data is now absent must not survive from an older build.
    for name, _ in PLOTS:
        if name not in kept:
            for ext in ("png", "svg"):
                (plots_dir / f"{name}.{ext}").unlink(missing_ok=True)
