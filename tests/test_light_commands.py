"""Commands that need no tensors (--help, list, show, report, compare, baseline save) import no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from report_fixtures import counts_only_rows, fixture_rows, seed_rows

from vggablate.run.records import Journal, atomic_write_text

ROOT = Path(__file__).resolve().parents[1]

# Runs each command in-process through bench.__main__.main, then names any torch module loaded.
DRIVER = """
import contextlib, io, sys
from bench.__main__ import main
for argv in {commands!r}:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # --help exits 0 through argparse
            code = exc.code
    assert code == 0, (argv, code)
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def test_light_commands_leave_torch_unimported(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    Journal(run / "rows.jsonl").extend(counts_only_rows())
    accuracy = tmp_path / "accuracy"  # a run with training rows: curves, the convergence note
    accuracy.mkdir()
    Journal(accuracy / "rows.jsonl").extend(fixture_rows())
    claims = _claims_folder(tmp_path / "claims")
    base = tmp_path / "base.json"
    commands = [
        ["--help"],
        ["run", "--help"],
        ["list"],
        ["list", "vgg1*_bn"],
        ["show", "vgg16"],
        ["show", "64,M,128,M", "--head", "gap", "--input-size", "32"],
        ["report", str(run)],
        ["report", str(accuracy)],
        ["report", str(claims)],  # re-judges the claims from its journal and config.toml
        ["baseline", "save", str(run), "--to", str(base)],
        ["compare", str(base), str(run)],
    ]
    code = DRIVER.format(commands=commands)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert base.is_file() and (run / "summary.md").is_file() and (accuracy / "report.html").is_file()
    assert "| shallow_5x5 " in (claims / "claims.md").read_text()


def _claims_folder(path: Path) -> Path:
    """A claims run folder as `bench claims --budget smoke --claims shallow_5x5` leaves it (made without torch)."""
    from vggablate.claims.budgets import BUDGETS, claims_config
    from vggablate.run.sweepconfig import to_toml

    path.mkdir()
    atomic_write_text(path / "config.toml", to_toml(claims_config(BUDGETS["smoke"], {}, ("shallow_5x5",))))
    rows = seed_rows("vgg13", [90.0, 90.5, 91.0]) + seed_rows("vgg13_k5", [89.0, 89.2, 90.1])
    Journal(path / "rows.jsonl").extend(rows)
    atomic_write_text(path / "claims.md", "# VGG paper claims\n")
    return path
