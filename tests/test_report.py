"""Report rebuild from a journal fixture: every file exists and its numbers agree with the rows (no torch)."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest
from report_fixtures import ARCHS, counts_only_rows, counts_row, crashed_row, fixture_rows

from vggablate.report import Section, build_reports
from vggablate.report.build import run_header
from vggablate.report.plots import PLOTS, pareto_front
from vggablate.report.tables import large_kernel_pairs
from vggablate.run.records import Journal
from vggablate.stats import mean_ci, welch_diff_ci

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "20250501-100000-fixture"
    run_dir.mkdir()
    Journal(run_dir / "rows.jsonl").extend(fixture_rows())
    claims = Section("Claims", "<p id='claims-body'>deeper is better: <b>supported</b></p>")
    paths = build_reports(run_dir, sections=[claims])
    return run_dir, paths


def md_table(text: str, heading: str) -> list[dict[str, str]]:
    """Parse the Markdown table under a '## heading' into dicts."""
    block = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in block.splitlines() if ln.startswith("|")]
    split = [[c.strip() for c in ln.strip("|").split(" | ")] for ln in lines]
    return [dict(zip(split[0], r)) for r in split[2:]]


def by_arch(table: list[dict[str, str]], arch: str, **match: str) -> dict[str, str]:
    return next(r for r in table if r["arch"] == arch and all(r[k] == v for k, v in match.items()))


def test_every_derived_file_exists(run):
    run_dir, paths = run
    expected = {"rows.csv", "rows.parquet", "summary.md", "report.html"}
    expected |= {f"plots/{name}.{ext}" for name, _ in PLOTS for ext in ("png", "svg")}
    assert {str(p.relative_to(run_dir)) for p in paths} == expected
    for p in paths:
        assert p.stat().st_size > 0
    assert all((run_dir / "plots" / f"{n}.png").read_bytes().startswith(PNG) for n, _ in PLOTS)
    assert all(b"<svg" in (run_dir / "plots" / f"{n}.svg").read_bytes()[:2000] for n, _ in PLOTS)
    assert not list(run_dir.rglob("*.tmp"))


def test_summary_numbers_agree_with_rows(run):
    text = (run[0] / "summary.md").read_text()
    overview = md_table(text, "Overview")
    assert [r["arch"] for r in overview] == list(ARCHS)
    vgg16 = by_arch(overview, "vgg16")
    assert vgg16["params (M)"] == f"{counts_row('vgg16')['params'] / 1e6:.2f}" == "138.36"
    assert vgg16["GMACs @224"] == f"{counts_row('vgg16')['macs'] / 1e9:.3f}" == "15.470"
    seeds = [r["top1"] for r in fixture_rows() if r["kind"] == "accuracy" and r["arch"] == "vgg16" and not r["error"]]
    ci = mean_ci(seeds)
    # The fixture trains at 32px with a gap head: top-1 is of that network, not of the costed one.
    assert vgg16["top-1 % as trained (95% CI)"] == f"{ci.mean:.2f} ± {ci.half_width:.2f} (n=3)"
    assert by_arch(md_table(text, "Accuracy"), "vgg16")["top-1 % (95% CI)"] == vgg16["top-1 % as trained (95% CI)"]
    models = md_table(text, "Model size and compute")
    assert by_arch(models, "vgg11", input="224px imagenet")["conv (M)"] == "9.22"


def test_latency_throughput_memory_tables(run):
    text = (run[0] / "summary.md").read_text()
    lat = by_arch(md_table(text, "Latency p50 (ms)"), "vgg16", setting="cuda bf16 train")
    row = next(
        r
        for r in fixture_rows()
        if r["kind"] == "latency" and r["arch"] == "vgg16" and r["mode"] == "train" and r["batch_size"] == 8
    )
    assert float(lat["bs=8"]) == pytest.approx(row["latency_ms_p50"], rel=5e-3)
    assert lat["bs=128"] == "OOM"
    thr = by_arch(md_table(text, "Throughput (images/s)"), "vgg16", setting="cuda bf16 train")
    assert float(thr["bs=8"].replace(",", "")) == pytest.approx(row["throughput_ips"], abs=0.5)
    mem = by_arch(md_table(text, "Peak memory (MiB)"), "vgg16", setting="cuda bf16 train")
    assert mem["bs=128"] == "OOM" and mem["bs=1"] != ""


def test_pairs_table_uses_welch(run):
    text = (run[0] / "summary.md").read_text()
    (pair,) = md_table(text, "3x3 vs large-kernel pairs")
    acc = [r for r in fixture_rows() if r["kind"] == "accuracy" and not r["error"]]
    top1 = {a: [r["top1"] for r in acc if r["arch"] == a] for a in ARCHS}
    d = welch_diff_ci(top1["vgg13"], top1["vgg13_k5"])
    assert pair["3x3"] == "vgg13" and pair["large kernel"] == "vgg13_k5"
    assert pair["Δ top-1 (pp, 95% CI)"] == f"{d.diff:+.2f} [{d.lo:+.2f}, {d.hi:+.2f}]"


def test_errors_are_shown(run):
    text = (run[0] / "summary.md").read_text()
    errors = md_table(text, "Errors")
    assert sorted(r["error_type"] for r in errors) == ["crash", "oom", "oom"]
    assert by_arch(errors, "vgg16", kind="accuracy")["message"] == crashed_row()["error"]
    assert "(3 failed)" in text


class Page(HTMLParser):
    """Collect the tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_with_tables_and_images(run):
    html = (run[0] / "report.html").read_text()
    page = Page()
    page.feed(html)
    tags = [t for t, _ in page.tags]
    summary = (run[0] / "summary.md").read_text()
    assert tags.count("table") == summary.count("\n## ") == 10  # 8 + the two per-layer profile tables
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) == len(PLOTS)
    for a in imgs:
        assert a["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(a["src"].split(",", 1)[1]).startswith(PNG)
    assert "script" not in tags and "link" not in tags
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", html)
    text = " ".join(page.text)
    for needle in ("NVIDIA H100 80GB HBM3", "2.5.1+cu124", "dacf0e3", "20250501-100000-fixture", "SIGKILL"):
        assert needle in text
    assert ("p", {"id": "claims-body"}) in page.tags  # the extra section slot


def test_counts_only_run_and_stale_plots(tmp_path):
    Journal(tmp_path / "rows.jsonl").extend(fixture_rows())
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "memory.png").write_bytes(b"stale")
    (tmp_path / "rows.jsonl").unlink()
    Journal(tmp_path / "rows.jsonl").extend(counts_only_rows())
    paths = build_reports(tmp_path)
    assert {p.name for p in paths if p.parent.name == "plots"} == {
        "params_macs.png",
        "params_macs.svg",
        "stage_breakdown.png",
        "stage_breakdown.svg",
    }
    assert not (tmp_path / "plots" / "memory.png").exists()
    text = (tmp_path / "summary.md").read_text()
    assert [r["arch"] for r in md_table(text, "Overview")] == ["vgg11", "vgg16"]
    assert "## Latency" not in text and "## Errors" not in text


def test_empty_journal_still_builds(tmp_path):
    (tmp_path / "rows.jsonl").write_text("")
    build_reports(tmp_path)
    assert "No rows with figures yet" in (tmp_path / "summary.md").read_text()
    assert "<table" not in (tmp_path / "report.html").read_text()


def test_retried_trial_shows_only_its_last_attempt(tmp_path):
    crashed = crashed_row()
    retried = {**crashed, "attempt": 1, "error": None, "error_type": None, "top1": 90.9}
    Journal(tmp_path / "rows.jsonl").extend([counts_row("vgg16", 32), crashed, retried])
    build_reports(tmp_path)
    text = (tmp_path / "summary.md").read_text()
    assert "## Errors" not in text
    assert by_arch(md_table(text, "Accuracy"), "vgg16")["top-1 % (95% CI)"] == "90.90 (n=1)"


def test_failed_html_write_keeps_old_report(tmp_path, monkeypatch):
    Journal(tmp_path / "rows.jsonl").extend(counts_only_rows())
    build_reports(tmp_path)
    old = (tmp_path / "report.html").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr("vggablate.report.build.render_html", boom)
    Journal(tmp_path / "rows.jsonl").append(counts_row("vgg13"))
    with pytest.raises(RuntimeError):
        build_reports(tmp_path)
    assert (tmp_path / "report.html").read_bytes() == old


def test_large_kernel_pairs_by_name():
    # tiny_k5 looks like a large-kernel twin of tiny, but only archs.LARGE_KERNEL_BASE says what is paired.
    names = ["vgg13", "vgg13_bn", "vgg13_k5", "vgg13_k5_cm_bn", "vgg16_k7", "vgg19", "vgg19_k5_cm", "tiny", "tiny_k5"]
    assert large_kernel_pairs(names) == [
        ("vgg13", "vgg13_k5"),
        ("vgg13_bn", "vgg13_k5_cm_bn"),
        ("vgg19", "vgg19_k5_cm"),
    ]


def test_pareto_front():
    points = [(7.6, 88.1), (11.3, 89.6), (9.4, 89.2), (15.5, 90.3), (12.0, 89.0)]
    assert pareto_front(points) == [0, 2, 1, 3]


def test_run_header_from_rows():
    import pandas as pd

    header = run_header(pd.DataFrame(fixture_rows()))
    assert header["device"] == "NVIDIA H100 80GB HBM3" and header["git rev"] == "dacf0e3"
    assert header["rows"] == f"{len(fixture_rows())} (3 failed)"
