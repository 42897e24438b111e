"""``python -m bench report RUN_DIR``: rebuild, one-line errors, and no torch in the report path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import bench_main
from report_fixtures import counts_only_rows, fixture_rows

from bench.__main__ import main
from vggablate.run.records import Journal

ROOT = Path(__file__).resolve().parents[1]


def test_report_prints_rebuilt_paths(tmp_path, capsys):
    Journal(tmp_path / "rows.jsonl").extend(counts_only_rows())
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out.split()
    assert str(tmp_path / "report.html") in out and str(tmp_path / "plots" / "params_macs.svg") in out
    assert all(Path(p).is_file() for p in out)


def test_torn_journal_warns_in_one_line(tmp_path, capsys):
    Journal(tmp_path / "rows.jsonl").extend(counts_only_rows())
    with open(tmp_path / "rows.jsonl", "a") as f:
        f.write('{"trial_id": "x", "ki')
    assert main(["report", str(tmp_path)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: ") and "torn last line" in err[0]


def test_damaged_rows_are_skipped_by_report_and_compare(tmp_path):
    # Text where a number goes crashed the plots (report) and the differences (compare) with a TypeError.
    rows = counts_only_rows()  # vgg11, vgg16
    rows[1] = {**rows[1], "params": "abc"}
    Journal(tmp_path / "rows.jsonl").extend(rows)
    proc = bench_main("report", str(tmp_path))
    warning = f"warning: {tmp_path / 'rows.jsonl'} line 2: params is 'abc', expected a number; row skipped"
    assert (proc.returncode, proc.stderr.splitlines()) == (0, [warning]), proc.stderr
    assert (tmp_path / "report.html").is_file()
    proc = bench_main("compare", str(tmp_path), str(tmp_path))
    assert (proc.returncode, proc.stderr.splitlines()) == (0, [warning]), proc.stderr
    # The other rows are compared; the skipped one's setting is on neither side.
    assert "| params | vgg11 counts" in proc.stdout and "vgg16" not in proc.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing", "no run folder at"),
        (lambda d: (d / "rows.jsonl").write_text("{}\n") and d / "rows.jsonl", "is a file"),
        (lambda d: d, "has no rows.jsonl"),
        (lambda d: (d / "rows.jsonl").write_text('[1]\n{bad\n"x"\n') and d, "rows.jsonl: no usable row in it"),
    ],
)
def test_bad_run_dir_is_one_line_exit_2(tmp_path, capsys, make, message):
    assert main(["report", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_report_build_imports_no_torch(tmp_path):
    Journal(tmp_path / "rows.jsonl").extend(fixture_rows())
    code = (
        "import sys\n"
        "from vggablate.report import build_reports\n"
        f"paths = build_reports({str(tmp_path)!r})\n"
        "assert len(paths) == 22, paths\n"  # 18 + the per-layer roofline and share plots (png, svg)
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
