"""Commands that need no tensors (--help, list, show, report, compare, baseline save) import no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from report_fixtures import counts_only_rows

from vggablate.records import Journal

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
    base = tmp_path / "base.json"
    commands = [
        ["--help"],
        ["run", "--help"],
        ["list"],
        ["list", "vgg1*_bn"],
        ["show", "vgg16"],
        ["show", "64,M,128,M", "--head", "gap", "--input-size", "32"],
        ["report", str(run)],
        ["baseline", "save", str(run), "--to", str(base)],
        ["compare", str(base), str(run)],
    ]
    code = DRIVER.format(commands=commands)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert base.is_file() and (run / "summary.md").is_file()
