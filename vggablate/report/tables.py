"""Summary tables from the rows DataFrame: figures rounded and formatted (by report.fmt) here, never earlier."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from vggablate.arch.archs import LARGE_KERNEL_BASE
from vggablate.report.fmt import CLIPPED, DIFF_PP, beyond, clip, fmt, fmt_ci, fmt_keep, fmt_sig, num
from vggablate.run.records import IDENTITY, SETTINGS
from vggablate.run.trial import non_defaults
from vggablate.schema import RUN_COLUMNS, UNLABELLED
from vggablate.stats import mean_ci, welch_diff_ci


@dataclass(frozen=True)
class Table:
    """A formatted table (all cells strings) with its title and a note on how to read it."""

    title: str
    frame: pd.DataFrame
    note: str = ""


def report_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return frame with every identity and settings column present (missing ones all null)."""
    missing = [c for c in IDENTITY + SETTINGS if c not in frame]
    return frame.assign(**{c: None for c in missing}) if missing else frame


def col(frame: pd.DataFrame, name: str) -> pd.Series:
    """Return a column, or an all-null one when no row has that figure."""
    return frame[name] if name in frame else pd.Series(math.nan, index=frame.index, dtype=float)


def ok_rows(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Return the rows of one kind that carry figures (no error)."""
    if "kind" not in frame:
        return frame.iloc[0:0]
    sel = frame[frame["kind"] == kind]
    return sel[sel["error"].isna()] if "error" in sel else sel


def error_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the failed rows."""
    return frame[frame["error"].notna()] if "error" in frame else frame.iloc[0:0]


def run_label(row: pd.Series) -> str:
    """Name a latency/memory/training setting compactly, e.g. 'cuda bf16 train cl compiled'."""
    parts = [row.get(k) for k in ("device", "precision", "mode")]
    label = " ".join(str(p) for p in parts if isinstance(p, str))
    if row.get("channels_last") is True:
        label += " cl"
    if row.get("compile") is True:
        label += " compiled"
    size = row.get("input_size")
    if num(size) and size != 224:
        label += f" @{int(size)}px"
    # Any other run setting that departs from the default trial (batch size is the tables' columns).
    spelled = ("device", "precision", "mode", "channels_last", "compile", "input_size", "batch_size", *UNLABELLED)
    extra = non_defaults(row, [k for k in RUN_COLUMNS if k not in spelled])
    return " ".join([label, *extra]) if extra else label


def with_setting(frame: pd.DataFrame) -> pd.DataFrame:
    """Return frame with a `setting` column (empty frames pass through)."""
    frame = frame.copy()
    frame["setting"] = [run_label(r) for _, r in frame.iterrows()] if len(frame) else []
    return frame


def main_input_size(frame: pd.DataFrame) -> int | None:
    """Return the counts input size to headline (224 when present, else the most common)."""
    sizes = ok_rows(frame, "counts").get("input_size", pd.Series(dtype=float)).dropna()
    if sizes.empty:
        return None
    return 224 if (sizes == 224).any() else int(sizes.mode().iloc[0])


def large_kernel_pairs(archs: list[str]) -> list[tuple[str, str]]:
    """Return (3x3 base, large-kernel variant) pairs present in archs, e.g. (vgg13, vgg13_k5) (archs.py's map)."""
    present = set(archs)
    return [(LARGE_KERNEL_BASE[name], name) for name in sorted(present) if LARGE_KERNEL_BASE.get(name) in present]


def accuracy_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """Return per-arch top-1 mean, CI bounds, half-width and n over seeds (raw numbers)."""
    acc = ok_rows(frame, "accuracy")
    acc = acc[acc["top1"].notna()] if "top1" in acc else acc.iloc[0:0]
    out = []
    for (arch, dataset), g in acc.groupby(["arch", acc["dataset"].fillna("?")], sort=True):
        ci = mean_ci(g["top1"].tolist())
        out.append({"arch": arch, "dataset": dataset, "n": ci.n, "top1": ci.mean, "lo": ci.lo, "hi": ci.hi})
    return pd.DataFrame(out, columns=["arch", "dataset", "n", "top1", "lo", "hi"])


# ---- tables -------------------------------------------------------------------------------------
def _pivot(frame: pd.DataFrame, kind: str, value: Callable[[pd.Series], float], cell: Callable) -> pd.DataFrame:
    """Pivot rows of a kind to arch x setting rows and one column per batch size; errors by type."""
    rows = with_setting(frame[frame.get("kind", pd.Series(dtype=str)) == kind]) if "kind" in frame else frame
    if rows.empty or "batch_size" not in rows:
        return pd.DataFrame()
    table: dict[tuple[str, str], dict[str, str]] = {}
    for _, r in rows.sort_values(["arch", "setting", "batch_size"]).iterrows():
        key = (r["arch"], r["setting"])
        err = r.get("error_type") if isinstance(r.get("error"), str) else None
        text = (err or "error").upper() if isinstance(r.get("error"), str) else cell(value(r))
        table.setdefault(key, {})[f"bs={int(r['batch_size'])}" if num(r["batch_size"]) else "bs=?"] = text
    out = pd.DataFrame([{"arch": a, "setting": s, **cells} for (a, s), cells in table.items()])
    bs_cols = sorted((c for c in out.columns if c.startswith("bs=") and c != "bs=?"), key=lambda c: int(c[3:]))
    return out[["arch", "setting", *bs_cols, *(["bs=?"] if "bs=?" in out else [])]].fillna("")


def peak_mb(row: pd.Series) -> float:
    """Return the measured peak memory of a row: CUDA allocator peak, else CPU RSS, else analytic."""
    for col in ("mem_peak_alloc_mb", "mem_rss_peak_mb", "mem_analytic_mb"):
        if num(row.get(col)):
            return float(row[col])
    return math.nan


def models_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return params and GMACs per arch (and input size), conv vs classifier."""
    c = ok_rows(frame, "counts")
    if c.empty:
        return pd.DataFrame()
    multi = c["input_size"].nunique() > 1 if "input_size" in c else False
    out = []
    for _, r in c.sort_values(["arch", "input_size"] if multi else ["arch"]).iterrows():
        row = {"arch": r["arch"]}
        if multi:
            row["input"] = f"{int(r['input_size'])}px {r.get('head', '')}".strip()
        row |= {
            "params (M)": fmt_keep(r.get("params", math.nan) / 1e6, 2),
            "conv (M)": fmt_keep(r.get("params_conv", math.nan) / 1e6, 2),
            "classifier (M)": fmt_keep(r.get("params_classifier", math.nan) / 1e6, 2),
            "GMACs": fmt_keep(r.get("macs", math.nan) / 1e9, 3),
            "conv GMACs": fmt_keep(r.get("macs_conv", math.nan) / 1e9, 3),
            "conv layers": fmt(r.get("conv_layers"), 0),
        }
        out.append(row)
    return pd.DataFrame(out)


def latency_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return latency p50 (ms) per arch, setting and batch size."""
    return _pivot(frame, "latency", lambda r: r.get("latency_ms_p50"), fmt_sig)


def throughput_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return throughput (images/s) per arch, setting and batch size."""
    return _pivot(frame, "latency", lambda r: r.get("throughput_ips"), fmt_keep)


def memory_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return peak memory (MiB) per arch, setting and batch size."""
    return _pivot(frame, "memory", peak_mb, fmt_keep)


def accuracy_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return top-1 mean ± 95% CI over seeds, top-5, training time and size of the network as trained."""
    stats = accuracy_stats(frame)
    if stats.empty:
        return pd.DataFrame()
    acc = ok_rows(frame, "accuracy")
    out = []
    for _, s in stats.iterrows():
        g = acc[(acc["arch"] == s["arch"]) & (acc["dataset"].fillna("?") == s["dataset"])]
        out.append(
            {
                "arch": s["arch"],
                "dataset": s["dataset"],
                "model as trained": form_label(g),
                "params (M)": fmt_sig(col(g, "params").max() / 1e6),
                "GMACs": fmt_sig(col(g, "macs").max() / 1e9),
                "epochs": ", ".join(f"{v:g}" for v in sorted(col(g, "epochs").dropna().unique())),
                "top-1 % (95% CI)": fmt_ci(s["top1"], s["lo"], s["hi"], s["n"]),
                "top-5 %": fmt(col(g, "top5").mean()),
                "train time (s)": fmt_keep(col(g, "train_time_s").mean()),
            }
        )
    return pd.DataFrame(out)


def training_runs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return one line per training run (arch and seed): top-1, top-5, loss, epochs, time, img/s, time to target."""
    acc = ok_rows(frame, "accuracy")
    if acc.empty:
        return pd.DataFrame()
    acc = acc.sort_values(["arch", "seed"], kind="stable")
    cells = {
        "seed": lambda v: fmt(v, 0),
        "top1": fmt,
        "top5": fmt,
        "train_loss": lambda v: fmt(v, 3),
        "epochs": fmt_sig,
        "train_time_s": lambda v: fmt(v, 1),
        "train_ips": fmt_keep,
        "time_to_target_s": lambda v: fmt(v, 1),
    }
    names = {"top1": "top-1 %", "top5": "top-5 %", "train_loss": "train loss", "train_time_s": "train s",
             "train_ips": "img/s", "time_to_target_s": "to target s"}  # fmt: skip
    out = {"arch": acc["arch"].tolist()}
    out |= {names.get(c, c): [cell(v) for v in col(acc, c)] for c, cell in cells.items()}
    return pd.DataFrame(out)


_FORM = (("width", "width {}"), ("head", "{} head"), ("input_size", "{}px"), ("num_classes", "{} classes"))


def form_label(rows: pd.DataFrame) -> str:
    """Name the network form of rows: width, head, input size and classes, e.g. 'width 0.5, gap head, 32px'."""
    parts = []
    for column, label in _FORM:
        values = sorted(rows[column].dropna().unique()) if column in rows else []
        if len(values):
            parts.append(label.format(", ".join(f"{v:g}" if _is_number(v) else str(v) for v in values)))
    return ", ".join(parts)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def pairs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return each 3x3 vs large-kernel pair: params and GMACs ratios and the top-1 difference."""
    counts = ok_rows(frame, "counts")
    size = main_input_size(frame)
    if size is not None:
        counts = counts[counts["input_size"] == size]
    acc = ok_rows(frame, "accuracy")
    archs = sorted(set(frame["arch"].dropna())) if "arch" in frame else []
    out = []
    for base, large in large_kernel_pairs(archs):
        row = {"3x3": base, "large kernel": large}
        b, g = counts[counts["arch"] == base], counts[counts["arch"] == large]
        if len(b) and len(g):
            row["params ratio"] = fmt(col(g, "params").iloc[0] / col(b, "params").iloc[0], 3)
            row["GMACs ratio"] = fmt(col(g, "macs").iloc[0] / col(b, "macs").iloc[0], 3)
        ta, tb = col(acc, "top1")[acc["arch"] == base].dropna(), col(acc, "top1")[acc["arch"] == large].dropna()
        if len(ta) and len(tb):
            d = welch_diff_ci(ta.tolist(), tb.tolist())
            lo, hi = clip(d.lo, d.hi, DIFF_PP) if num(d.lo) else (d.lo, d.hi)
            mark = CLIPPED if beyond(d.lo, d.hi, DIFF_PP) else ""  # two top-1s differ by at most 100 pp
            ci = f" [{lo:+.2f}, {hi:+.2f}]{mark}" if num(d.lo) else ""
            row["Δ top-1 (pp, 95% CI)"] = f"{d.diff:+.2f}{ci}"
            row["p"] = fmt(d.p_value, 3)
        out.append(row)
    return pd.DataFrame(out).fillna("")


def errors_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the failed trials: arch, kind, setting, batch size, error type and message."""
    err = error_rows(frame)
    if err.empty:
        return pd.DataFrame()
    out = pd.DataFrame(
        {
            "arch": err["arch"],
            "kind": err["kind"],
            "setting": [_error_setting(r) for _, r in err.iterrows()],
            "batch size": [_error_batch(r) for _, r in err.iterrows()],
            "seed": [fmt(v, 0) for v in err.get("seed", [None] * len(err))],
            "error_type": err.get("error_type", pd.Series([""] * len(err), index=err.index)).fillna(""),
            "message": err["error"].astype(str).str.slice(0, 160),
        }
    )
    return out.reset_index(drop=True)


def _error_setting(row: pd.Series) -> str:
    # In folders journaled before accuracy trials were fitted when planned, a failed training trial's
    # input_size and batch_size are the sweep's latency defaults, not its recipe's: name the data set.
    if row.get("kind") != "accuracy":
        return run_label(row)
    label = " ".join(str(row[k]) for k in ("device", "precision") if isinstance(row.get(k), str))
    dataset = row.get("dataset")
    return f"{label} train on {dataset}" if isinstance(dataset, str) else f"{label} train"


def _error_batch(row: pd.Series) -> str:
    if row.get("kind") != "accuracy":
        return fmt(row.get("batch_size"), 0)
    return fmt(row.get("train_batch_size"), 0)  # the recipe's batch, known only once training started
