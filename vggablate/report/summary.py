"""summary.md: the per-arch overview and the detailed tables, as Markdown to paste into a PR."""

from __future__ import annotations

import math

import pandas as pd

from vggablate.report.tables import (
    Table,
    accuracy_stats,
    accuracy_table,
    col,
    errors_table,
    fmt,
    fmt_ci,
    fmt_sig,
    latency_table,
    main_input_size,
    memory_table,
    models_table,
    ok_rows,
    pairs_table,
    peak_mb,
    throughput_table,
    with_setting,
)


def headline_setting(rows: pd.DataFrame) -> str | None:
    """Pick the setting the overview shows: inference first, then the most measured one."""
    if rows.empty:
        return None
    rows = with_setting(rows)
    infer = rows[rows["mode"] == "infer"] if "mode" in rows else rows
    pool = infer if len(infer) else rows
    counts = pool["setting"].value_counts()
    return sorted(counts[counts == counts.max()].index)[0]


def overview_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Return one row per arch (params, GMACs, p50 per batch size, img/s, memory, top-1) and its note."""
    archs = sorted(set(frame["arch"].dropna())) if "arch" in frame else []
    size = main_input_size(frame)
    counts = ok_rows(frame, "counts")
    lat, mem = with_setting(ok_rows(frame, "latency")), with_setting(ok_rows(frame, "memory"))
    lat_set, mem_set = headline_setting(lat), headline_setting(mem)
    lat = lat[lat["setting"] == lat_set] if lat_set else lat
    mem = mem[mem["setting"] == mem_set] if mem_set else mem
    mem_bs = mem["batch_size"].dropna().max() if mem["batch_size"].notna().any() else None
    acc = accuracy_stats(frame)
    out = []
    for arch in archs:
        row: dict[str, str] = {"arch": arch}
        c = counts[(counts["arch"] == arch) & (counts["input_size"] == size)] if len(counts) else counts
        if len(counts):
            row["params (M)"] = fmt(col(c, "params").iloc[0] / 1e6) if len(c) else ""
            row[f"GMACs @{size}"] = fmt(col(c, "macs").iloc[0] / 1e9, 3) if len(c) else ""
        a = lat[lat["arch"] == arch]
        for bs in sorted(lat["batch_size"].dropna().unique()):
            v = col(a, "latency_ms_p50")[a["batch_size"] == bs]
            row[f"p50 bs={int(bs)} (ms)"] = fmt_sig(v.iloc[0]) if len(v) else "—"
        if len(lat):
            row["best img/s"] = fmt(col(a, "throughput_ips").max(), 0, thousands=True) if len(a) else "—"
        if mem_bs is not None:
            v = [peak_mb(r) for _, r in mem[(mem["arch"] == arch) & (mem["batch_size"] == mem_bs)].iterrows()]
            row[f"peak MB bs={int(mem_bs)}"] = fmt(v[0], 0, thousands=True) if v and not math.isnan(v[0]) else "—"
        s = acc[acc["arch"] == arch]
        if len(acc):
            row["top-1 % (95% CI)"] = fmt_ci(*s[["top1", "lo", "hi", "n"]].iloc[0]) if len(s) else ""
        out.append(row)
    note = "; ".join(
        x for x in (f"latency/throughput: {lat_set}" if lat_set else "", f"memory: {mem_set}" if mem_set else "") if x
    )
    return pd.DataFrame(out), note


def summary_tables(frame: pd.DataFrame) -> list[Table]:
    """Return the non-empty report tables, overview first and errors last."""
    overview, setting_note = overview_table(frame)
    ci_note = "top-1: mean ± half-width of the 95% Student-t CI over n seeds."
    tables = [
        Table("Overview", overview, f"{setting_note}. {ci_note}" if setting_note else ci_note),
        Table("Model size and compute", models_table(frame), "1 MAC = one multiply-add (torchvision's GFLOPS)."),
        Table("Latency p50 (ms)", latency_table(frame), "Median over timed iterations, warm-up excluded."),
        Table("Throughput (images/s)", throughput_table(frame)),
        Table("Peak memory (MB)", memory_table(frame), "CUDA allocator peak (CPU: peak RSS above baseline)."),
        Table("Accuracy", accuracy_table(frame), ci_note),
        Table("3x3 vs large-kernel pairs", pairs_table(frame), "Δ = large - 3x3, Welch's t 95% CI and p-value."),
        Table("Errors", errors_table(frame), "Failed trials; OOM/TIMEOUT/CRASH cells above are these rows."),
    ]
    return [t for t in tables if not t.frame.empty and len(t.frame.columns) > 1]


def to_markdown(frame: pd.DataFrame) -> str:
    """Render a table of strings as a GitHub Markdown table (numbers right-aligned)."""
    cols = [str(c) for c in frame.columns]
    cells = [[_md_cell(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    right = [all(_numeric_text(r[i]) for r in cells) and cells for i in range(len(cols))]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right)) + "|"
    return "\n".join([line(cols), rule, *(line(r) for r in cells)])


def _md_cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _numeric_text(text: str) -> bool:
    t = text.replace(",", "").replace("—", "").strip()
    return t == "" or t.replace(".", "", 1).lstrip("+-").isdigit() or t.isupper()


def summary_markdown(title: str, header: dict[str, str], tables: list[Table]) -> str:
    """Return summary.md: a title, the run's environment line and every table with its note."""
    parts = [f"# {title}", "", " · ".join(f"**{k}**: {v}" for k, v in header.items() if v), ""]
    if not tables:
        parts += ["_No rows with figures yet._", ""]
    for t in tables:
        parts += [f"## {t.title}", "", to_markdown(t.frame), ""]
        if t.note:
            parts += [f"_{t.note}_", ""]
    return "\n".join(parts)
