"""A new setting column is one edit in vggablate/run/schema.py (plus the Trial field that holds its value).

The edit is made in a copy of the code, and tests/new_setting_check.py runs there in a fresh
process: every producer of rows (trial rows of each kind, error rows, ``bench train``, regress),
the report's grouping and the baseline's keys must carry the column without another edit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The one edit: the column joins the run's columns. The Trial gets the field that holds it (default 7).
EDITS = {
    "vggablate/run/schema.py": ('"batch_size", "seed", "dataset")', '"batch_size", "seed", "dataset", "probe")'),
    "vggablate/run/trial.py": ('    budget_s: float = 2.0', "    probe: int = 7\n    budget_s: float = 2.0"),
}


def edited_copy(dest: Path) -> Path:
    """Copy the code to dest with the EDITS made; return dest."""
    for package in ("vggablate", "bench"):
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    for path, (old, new) in EDITS.items():
        text = (dest / path).read_text()
        assert text.count(old) == 1, f"{path}: the edit's anchor {old!r} moved; update EDITS"
        (dest / path).write_text(text.replace(old, new))
    return dest


def test_a_new_setting_column_reaches_every_producer_and_grouping(tmp_path):
    code = edited_copy(tmp_path / "code")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "new_setting_check.py"), str(code)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(code)},  # the copy, not the installed package
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]
