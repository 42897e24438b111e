"""What the report says beside its figures: clipped CIs, units, errors, captions, which network a figure is of."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from report_fixtures import (
    accuracy_row,
    counts_only_rows,
    counts_row,
    cpu_env,
    failed_training_row,
    fixture_rows,
    latency_rows,
    memory_rows,
    seed_rows,
)
from test_report import md_table

from vggablate.report import build_reports
from vggablate.report.build import run_header
from vggablate.report.fmt import fmt_sig
from vggablate.report.plots import caption, plot_curves, plot_memory, plot_top1_vs_gmacs
from vggablate.report.plots_perf import memory_ratio, plot_latency
from vggablate.report.tables import report_frame
from vggablate.run.records import Journal
from vggablate.stats import mean_ci

WIDE = [10.0, 33.33]  # two seeds far apart: the 95% t-interval runs to about -127% and 170%
PAL2 = {"vgg11": (0.0, 0.0, 1.0), "vgg16": (1.0, 0.0, 0.0)}


def build(tmp_path, rows: list[dict]) -> tuple[str, str]:
    Journal(tmp_path / "rows.jsonl").extend(rows)
    build_reports(tmp_path)
    return (tmp_path / "summary.md").read_text(), (tmp_path / "report.html").read_text()


def frame(rows: list[dict]) -> pd.DataFrame:
    return report_frame(pd.DataFrame(rows))


def test_wide_ci_is_clipped_and_explained_in_tables(tmp_path):
    text, html = build(tmp_path, [counts_row("vgg11")] + seed_rows("vgg11", WIDE))
    ci = mean_ci(WIDE)
    cell = f"{ci.mean:.2f} [0.00, 100.00]† (n=2)"
    assert md_table(text, "Accuracy")[0]["top-1 % (95% CI)"] == cell
    assert md_table(text, "Overview")[0]["top-1 % as trained (95% CI)"] == cell
    assert f"±{ci.half_width:.2f} pp" in text and "add seeds" in text
    assert "±" + f"{ci.half_width:.2f} (n=2)" not in text  # the impossible ± is not printed as a cell
    assert cell in html


def test_narrow_ci_has_no_clipping_note(tmp_path):
    text, _ = build(tmp_path, seed_rows("vgg11", [88.0, 88.4, 88.1]))
    assert "†" not in text and " ± " in md_table(text, "Accuracy")[0]["top-1 % (95% CI)"]


def _errorbar_spans(ax) -> list[tuple[float, float]]:
    segs = [s for c in ax.collections for s in getattr(c, "get_segments", list)()]
    return [(min(s[:, 1]), max(s[:, 1])) for s in segs if len(s) == 2 and s[0, 0] == s[1, 0]]


def test_plots_keep_top1_bars_and_bands_in_0_100():
    rows = seed_rows("vgg11", WIDE) + seed_rows("vgg16", [97.0, 99.9])
    pal = {"vgg11": (0, 0, 1), "vgg16": (1, 0, 0)}
    ax = plot_top1_vs_gmacs(frame(rows), pal).axes[0]
    spans = _errorbar_spans(ax)
    assert len(spans) == 2 and all(0.0 <= lo and hi <= 100.0 for lo, hi in spans)
    assert max(hi for _, hi in spans) == pytest.approx(100.0)  # clipped at the top, not dropped
    assert ax.get_ylim()[1] <= 100.0 and ax.get_ylim()[0] >= 0.0
    assert "clipped" in ax.get_title()
    top1_ax, loss_ax = plot_curves(frame(rows), pal).axes[:2]
    bands = [p.get_paths()[0].vertices[:, 1] for p in top1_ax.collections if isinstance(p, PolyCollection)]
    assert bands and all(b.min() >= 0.0 and b.max() <= 100.0 for b in bands)
    assert top1_ax.get_ylim()[1] <= 100.0 and loss_ax.get_ylim()[0] >= 0.0


def test_one_seed_near_100_does_not_stretch_the_axis():
    rows = [accuracy_row("vgg11", 0) | {"top1": 98.61}, accuracy_row("vgg16", 0) | {"top1": 98.61}]
    ax = plot_top1_vs_gmacs(frame(rows), {"vgg11": (0, 0, 1), "vgg16": (1, 0, 0)}).axes[0]
    assert 98.61 < ax.get_ylim()[1] <= 100.0
    assert "one seed" in ax.get_title() and "seeds" not in ax.get_title()


def test_memory_is_labelled_mib(tmp_path):
    text, html = build(tmp_path, fixture_rows())
    for page in (text, html):
        assert not re.search(r"\bMB\b", page)
    assert "## Peak memory (MiB)" in text and "peak MiB bs=128" in md_table(text, "Overview")[0]
    fig = plot_memory(frame(fixture_rows()), {a: (0, 0, 0) for a in ("vgg11", "vgg13", "vgg13_k5", "vgg16")})
    assert {ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()} == {"peak memory (MiB)"}


def test_memory_caption_is_computed_from_the_rows():
    rows = memory_rows("vgg11", "infer") + memory_rows("vgg11", "train")
    peak = {(r["mode"], r["batch_size"]): r["mem_peak_alloc_mb"] for r in rows}
    ratios = sorted(peak["train", bs] / peak["infer", bs] for bs in (1, 8, 32, 128))
    median = (ratios[1] + ratios[2]) / 2
    text = memory_ratio(frame(rows))
    assert f"{median:.1f}x the inference peak" in text and "4 arch and batch size pairs" in text
    assert f"{ratios[0]:.1f}x-{ratios[-1]:.1f}x" in text
    assert caption("memory", plot_memory, frame(rows)).endswith(text)
    # Halve every training peak: the caption follows the data.
    halved = [r | {"mem_peak_alloc_mb": r["mem_peak_alloc_mb"] / 2} if r["mode"] == "train" else r for r in rows]
    assert f"{median / 2:.1f}x" in memory_ratio(frame(halved))
    assert memory_ratio(frame(memory_rows("vgg11", "infer"))) == ""


def test_failed_training_row_shows_its_data_set_not_a_wrong_batch(tmp_path):
    text, _ = build(tmp_path, counts_only_rows() + [failed_training_row()])
    (err,) = md_table(text, "Errors")
    assert err["setting"] == "cuda fp32 train on cifar10" and err["batch size"] == ""
    assert "_Failed trials._" in text and "OOM" not in text and "cells" not in text


def test_succeeded_training_shows_the_recipe_batch(tmp_path):
    crashed = failed_training_row() | {"train_batch_size": 128}  # a row that got as far as its recipe
    text, _ = build(tmp_path, [crashed])
    assert md_table(text, "Errors")[0]["batch size"] == "128"


def test_error_note_names_the_tables_with_marked_cells(tmp_path):
    text, _ = build(tmp_path, fixture_rows())
    assert "the OOM cells in the latency, throughput and memory tables above are these rows" in text


def test_params_only_summary_has_no_accuracy_note(tmp_path):
    text, html = build(tmp_path, counts_only_rows())
    assert "top-1" not in text and "Student-t" not in html


def test_cpu_run_names_its_device_once():
    header = run_header(pd.DataFrame([cpu_env(r) for r in counts_only_rows()]))
    assert header["device"] == "AMD EPYC 7763 64-Core Processor" and not header["cpu"]
    gpu = run_header(pd.DataFrame(counts_only_rows()))
    assert gpu["device"] == "NVIDIA H100 80GB HBM3" and gpu["cpu"] == "Intel(R) Xeon(R) Platinum 8480+"


def test_one_seed_one_epoch_grammar(tmp_path):
    rows = [accuracy_row("vgg11", 0) | {"epochs": 1.0}, accuracy_row("vgg16", 0) | {"epochs": 1.0}]
    text, html = build(tmp_path, rows)
    for page in (text, html):
        assert not re.search(r"\b1 (seeds|epochs)\b", page)
    assert md_table(text, "Accuracy")[0]["epochs"] == "1"


def test_overview_says_which_network_top1_is_of(tmp_path):
    text, _ = build(tmp_path, fixture_rows())
    row = md_table(text, "Overview")[0]
    assert "top-1 % as trained (95% CI)" in row and "top-1 % (95% CI)" not in row
    note = text.split("## Overview", 1)[1].split("## ", 1)[0]
    assert "as trained (width 1, gap head, 32px, 10 classes)" in note
    assert "(width 1, imagenet head, 224px, 1000 classes)" in note
    acc = md_table(text, "Accuracy")
    trained = counts_row("vgg16", 32)
    vgg16 = next(r for r in acc if r["arch"] == "vgg16")
    assert float(vgg16["params (M)"]) == pytest.approx(trained["params"] / 1e6, rel=5e-3)
    assert float(vgg16["GMACs"]) == pytest.approx(trained["macs"] / 1e9, rel=5e-3)


def test_same_form_needs_no_note(tmp_path):
    rows = [counts_row("vgg11", 32)] + [accuracy_row("vgg11", s) for s in range(3)]
    text, _ = build(tmp_path, rows)
    assert "top-1 % (95% CI)" in md_table(text, "Overview")[0] and "as trained" not in text.split("## Accuracy")[0]


def test_claim_plot_keeps_bars_in_0_100():
    from vggablate.report.claims import accuracy_plot

    fig = accuracy_plot("deeper is better", ["vgg11", "vgg16"], {"vgg11": WIDE, "vgg16": [97.0, 99.9]}, PAL2)
    ax = fig.axes[0]
    assert all(0.0 <= lo and hi <= 100.0 for lo, hi in _errorbar_spans(ax)) and ax.get_ylim()[1] <= 100.0
    assert "clipped" in ax.get_title()


def test_pair_difference_ci_is_clipped_to_100_pp(tmp_path):
    rows = [counts_row("vgg13"), counts_row("vgg13_k5")] + seed_rows("vgg13", [88.0, 88.3, 88.1])
    text, _ = build(tmp_path, rows + seed_rows("vgg13_k5", [60.0, 95.0]))
    (pair,) = md_table(text, "3x3 vs large-kernel pairs")
    assert pair["Δ top-1 (pp, 95% CI)"].endswith("[-100.00, +100.00]†")
    assert "runs past ±100 pp" in text and "Δ top-1: the networks as trained" in text


def one_batch_size(rows: list[dict], bs: int = 8) -> list[dict]:
    return [r for r in rows if r.get("batch_size") == bs]


def test_one_batch_size_draws_memory_as_bars_from_zero():
    rows = one_batch_size(memory_rows("vgg11", "infer") + memory_rows("vgg16", "infer") + memory_rows("vgg16", "train"))
    (ax,) = plot_memory(frame(rows), PAL2).axes
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == pytest.approx(sorted(r["mem_peak_alloc_mb"] for r in rows))  # one bar per arch and setting
    assert ax.get_ylim()[0] == 0 and not ax.lines  # bars, not points on a one-tick line plot
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cuda bf16 infer", "cuda bf16 train"]


def test_one_batch_size_draws_latency_and_throughput_as_labelled_bars():
    rows = one_batch_size(latency_rows("vgg11", "fp32", "infer") + latency_rows("vgg16", "fp32", "infer"), 1)
    ax_l, ax_t = plot_latency(frame(rows), PAL2).axes[:2]
    assert sorted(p.get_height() for p in ax_t.patches) == pytest.approx(sorted(r["throughput_ips"] for r in rows))
    assert ax_l.get_ylim()[0] == 0 and ax_l.get_yscale() == "linear"
    labels = {t.get_text() for t in ax_t.texts}
    assert {fmt_sig(r["throughput_ips"]) for r in rows} <= labels


def test_many_batch_sizes_keep_memory_lines_from_zero():
    ax = plot_memory(frame(memory_rows("vgg11", "infer")), PAL2).axes[0]
    assert ax.lines and ax.get_ylim()[0] == 0
