"""summary.md: the per-arch overview and the detailed tables, as Markdown to paste into a PR."""

from __future__ import annotations

import math

import pandas as pd

from vggablate.report.fmt import CLIPPED, DIFF_PP, beyond, clipped_note, fmt_ci, fmt_keep, fmt_sig
from vggablate.report.profile_tables import LAYER_NOTE, PROFILE_NOTE, headline_layers, profile_summary
from vggablate.report.tables import (
    Table,
    accuracy_stats,
    accuracy_table,
    col,
    error_rows,
    errors_table,
    form_label,
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
from vggablate.training.convergence import row_climb


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
    counts = counts[counts["input_size"] == size] if len(counts) else counts
    lat, mem = with_setting(ok_rows(frame, "latency")), with_setting(ok_rows(frame, "memory"))
    lat_set, mem_set = headline_setting(lat), headline_setting(mem)
    lat = lat[lat["setting"] == lat_set] if lat_set else lat
    mem = mem[mem["setting"] == mem_set] if mem_set else mem
    mem_bs = mem["batch_size"].dropna().max() if mem["batch_size"].notna().any() else None
    acc = accuracy_stats(frame)
    # The cost columns and top-1 may describe different networks (trained at width 0.125, 32px, ...).
    trained = trained_form_note(frame, counts if len(counts) else lat if len(lat) else mem)
    top1_col = "top-1 % as trained (95% CI)" if trained else "top-1 % (95% CI)"
    out = []
    for arch in archs:
        row: dict[str, str] = {"arch": arch}
        c = counts[counts["arch"] == arch]
        if len(counts):
            row["params (M)"] = fmt_keep(col(c, "params").iloc[0] / 1e6, 2) if len(c) else ""
            row[f"GMACs @{size}"] = fmt_keep(col(c, "macs").iloc[0] / 1e9, 3) if len(c) else ""
        a = lat[lat["arch"] == arch]
        for bs in sorted(lat["batch_size"].dropna().unique()):
            v = col(a, "latency_ms_p50")[a["batch_size"] == bs]
            row[f"p50 bs={int(bs)} (ms)"] = fmt_sig(v.iloc[0]) if len(v) else "—"
        if len(lat):
            row["best img/s"] = fmt_keep(col(a, "throughput_ips").max()) if len(a) else "—"
        if mem_bs is not None:
            v = [peak_mb(r) for _, r in mem[(mem["arch"] == arch) & (mem["batch_size"] == mem_bs)].iterrows()]
            row[f"peak MiB bs={int(mem_bs)}"] = fmt_keep(v[0]) if v and not math.isnan(v[0]) else "—"
        s = acc[acc["arch"] == arch]
        if len(acc):
            row[top1_col] = fmt_ci(*s[["top1", "lo", "hi", "n"]].iloc[0]) if len(s) else ""
        out.append(row)
    settings = "; ".join(
        x for x in (f"latency/throughput: {lat_set}" if lat_set else "", f"memory: {mem_set}" if mem_set else "") if x
    )
    notes = [settings + "." if settings else "", trained, accuracy_note(frame) if len(acc) else ""]
    return pd.DataFrame(out), " ".join(n for n in notes if n)


def trained_form_note(frame: pd.DataFrame, costed: pd.DataFrame) -> str:
    """Say which network top-1 belongs to when it is not the one the cost columns measured (width, head, input)."""
    acc = ok_rows(frame, "accuracy")
    groups: dict[str, list[str]] = {}
    for arch, g in acc.groupby("arch", sort=True) if len(acc) and len(costed) else ():
        mine = costed[costed["arch"] == arch]
        if len(mine) and form_label(g) != form_label(mine):
            groups.setdefault(form_label(g), []).append(str(arch))
    if not groups:
        return ""
    archs = sorted({a for names in groups.values() for a in names})
    shown = form_label(costed[costed["arch"].isin(archs)])
    if len(groups) == 1:
        trained = next(iter(groups))
    else:
        trained = "; ".join(f"{form} ({', '.join(names)})" for form, names in groups.items())
    return (
        f"top-1 is of the network as trained ({trained}), not of the form the other columns measure ({shown}); "
        "the trained networks' params and GMACs are in the Accuracy table."
    )


def accuracy_note(frame: pd.DataFrame) -> str:
    """Explain the top-1 cells: the CI, and any CI clipped to 0-100% (with its unclipped half-width)."""
    stats = accuracy_stats(frame)
    note = "top-1: mean ± half-width of the 95% Student-t CI over n seeds."
    note += improving_note(frame, stats) + bn_twin_note(frame)
    wide = stats[[beyond(lo, hi) for lo, hi in zip(stats["lo"], stats["hi"])]]
    return f"{note} {clipped_note(list((wide['hi'] - wide['lo']) / 2))}" if len(wide) else note


# A net whose top-1 rose more than this over the last quarter of its epochs is still improving.
STILL_IMPROVING_PP = 0.5


def improving_note(frame: pd.DataFrame, stats: pd.DataFrame) -> str:
    """Warn off a ranking the rows cannot carry: one seed per arch while a curve still rises (or is unknown)."""
    acc = ok_rows(frame, "accuracy")
    if len(stats) < 2 or not len(acc):
        return ""
    climbs = {arch: [row_climb(r) for r in g.to_dict("records")] for arch, g in acc.groupby("arch", sort=True)}
    rising = {a: c for a, c in climbs.items() if any(x is None or x > STILL_IMPROVING_PP for x in c)}
    if not rising:
        return ""
    shown = ", ".join(f"{a} {_climb_text(c)}" for a, c in rising.items())
    if int(stats["n"].max()) <= 1:
        return (f" One seed, still improving (top-1 gained over the last quarter of the epochs: {shown}): no ranking;"
                " `python -m bench claims` compares archs over seeds and checks the nets have converged.")  # fmt: skip
    return (f" Still improving at the last epoch ({shown}): a longer budget may reorder the archs"
            " (`python -m bench claims --until-stable`).")  # fmt: skip


def _climb_text(climbs: list[float | None]) -> str:
    known = [c for c in climbs if c is not None]
    if not known:
        return "unknown (one curve point)"
    return f"+{max(known):.1f} pts" if max(known) >= 0 else f"{max(known):.1f} pts"


def bn_twin_note(frame: pd.DataFrame) -> str:
    """Name the plain archs the recipe trained as their _bn twins (BatchNorm after every conv), if any."""
    acc = ok_rows(frame, "accuracy")
    if "bn_twin" not in acc or not len(acc):
        return ""
    twins = sorted(acc.loc[acc["bn_twin"].fillna(False).astype(bool), "arch"].astype(str).unique())
    if not twins:
        return ""
    return (f" {', '.join(twins)} trained as their _bn twins (BatchNorm after every conv, added by the recipe): "
            "plain VGGs barely leave chance in a CPU budget (docs/benchmarks.md).")  # fmt: skip


def errors_note(frame: pd.DataFrame) -> str:
    """Say which failures the tables above mark in their cells (latency and memory), if any."""
    err = error_rows(frame)
    marked = err[err["kind"].isin(["latency", "memory"])] if len(err) else err
    if marked.empty:
        return "Failed trials."
    types = sorted({str(t).upper() if isinstance(t, str) else "ERROR" for t in marked.get("error_type", [None])})
    kinds = set(marked["kind"])
    tables = (["latency", "throughput"] if "latency" in kinds else []) + (["memory"] if "memory" in kinds else [])
    where = ", ".join(tables[:-1]) + (" and " if len(tables) > 1 else "") + tables[-1]
    return f"Failed trials; the {'/'.join(types)} cells in the {where} tables above are these rows."


def summary_tables(frame: pd.DataFrame) -> list[Table]:
    """Return the non-empty report tables, overview first and errors last."""
    overview, overview_note = overview_table(frame)
    pairs = pairs_table(frame)
    pairs_note = "Δ = large - 3x3, Welch's t 95% CI and p-value."
    if pairs.get("Δ top-1 (pp, 95% CI)", pd.Series(dtype=str)).str.endswith(CLIPPED).any():
        pairs_note += f" {CLIPPED} the CI runs past ±{DIFF_PP[1]:g} pp and is shown clipped to it: add seeds."
    if any("as trained" in str(c) for c in overview.columns):  # ratios and Δ top-1 are of different networks
        pairs_note += " Ratios: the networks of 'Model size and compute'; Δ top-1: the networks as trained."
    tables = [
        Table("Overview", overview, overview_note),
        Table("Model size and compute", models_table(frame), "1 MAC = one multiply-add (torchvision's GFLOPS)."),
        Table("Latency p50 (ms)", latency_table(frame), "Median over timed iterations, warm-up excluded."),
        Table("Throughput (images/s)", throughput_table(frame)),
        Table("Peak memory (MiB)", memory_table(frame), "CUDA allocator peak (CPU: peak RSS above baseline)."),
        Table("Accuracy", accuracy_table(frame), accuracy_note(frame)),
        Table("3x3 vs large-kernel pairs", pairs, pairs_note),
        Table("Per-layer profile", profile_summary(frame), PROFILE_NOTE),
        Table("Per-layer profile: conv and linear layers", headline_layers(frame), LAYER_NOTE),
        Table("Errors", errors_table(frame), errors_note(frame)),
    ]
    return [t for t in tables if not t.frame.empty and len(t.frame.columns) > 1]


def markdown_table(frame: pd.DataFrame) -> str:
    """Render a table of strings as a GitHub Markdown table (numbers right-aligned)."""
    # Not DataFrame.to_markdown: tabulate (an extra dependency) leaves "|" in a cell unescaped, which
    # breaks the row, writes None as "nan" and cannot right-align formatted figures like "1,234".
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
    return t == "" or t.replace(".", "", 1).lstrip("+-").isdigit() or (t.isupper() and t.isalpha())


def summary_markdown(title: str, header: dict[str, str], tables: list[Table]) -> str:
    """Return summary.md: a title, the run's environment line and every table with its note."""
    parts = [f"# {title}", "", " · ".join(f"**{k}**: {v}" for k, v in header.items() if v), ""]
    if not tables:
        parts += ["_No rows with figures yet._", ""]
    for t in tables:
        parts += [f"## {t.title}", "", markdown_table(t.frame), ""]
        if t.note:
            parts += [f"_{t.note}_", ""]
    return "\n".join(parts)
