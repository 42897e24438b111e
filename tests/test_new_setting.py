"""A new setting column is one edit in vggablate/schema.py (plus the Trial field that holds its value).

The edit is made in a copy of the code, and ``check`` runs there in a fresh process (this file as a
script): every producer of rows (trial rows of each kind, error rows, ``bench train``, regress), the
report's grouping and the baseline's keys must carry the column without another edit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The one edit: the column joins the run's columns. The Trial gets the field that holds it (default 7).
EDITS = {
    "vggablate/schema.py": ('"batch_size", "seed", "dataset")', '"batch_size", "seed", "dataset", "probe")'),
    "vggablate/run/trial.py": ("    budget_s: float = 2.0", "    probe: int = 7\n    budget_s: float = 2.0"),
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
        [sys.executable, __file__, str(code)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(code)},  # the copy, not the installed package
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]


def check(copy: Path) -> None:
    """Run in the edited copy: every producer and grouping carries ``probe``; print ok last."""
    import pandas as pd

    import vggablate
    from bench.__main__ import main as bench
    from vggablate import resolve_spec
    from vggablate.regress import deterministic
    from vggablate.regress.baseline import from_rows
    from vggablate.report.plots_perf import memory_ratio
    from vggablate.report.profile_tables import profile_settings
    from vggablate.report.tables import latency_table, run_label
    from vggablate.run.execute import error_row, run_trial
    from vggablate.run.trial import Trial, trial_id
    from vggablate.schema import ROW_COLUMNS
    from vggablate.training.recipe import default_train_config

    spec = resolve_spec("8,M,16,M", head="gap", num_classes=10)
    quick = {"input_size": 32, "budget_s": 0.02}
    assert copy in Path(vggablate.__file__).parents, f"imported {vggablate.__file__}, not the edited copy"
    assert "probe" in ROW_COLUMNS and Trial(spec).probe == 7  # the edit is in place

    # Trial rows of every kind, and error rows: the trial's value, default or not.
    rows = {kind: run_trial(Trial(spec, kind=kind, probe=3, **quick)) for kind in ("counts", "latency", "memory")}
    rows["layers"] = run_trial(Trial(spec, kind="layers", **quick))
    recipe = replace(default_train_config("synthetic", "cpu"), steps=1)
    rows["accuracy"] = run_trial(Trial(spec, kind="accuracy", dataset="synthetic", mode="train", train=recipe))
    rows["error"] = [error_row(Trial(spec, probe=3), "boom", "exception", 0.0)]
    for kind, got in rows.items():
        want = 7 if kind in ("layers", "accuracy") else 3
        assert all(r["probe"] == want for r in got), (kind, [r.get("probe") for r in got])

    # bench train: its own producer (trial identity, then the settings as trained).
    with tempfile.TemporaryDirectory() as out:
        args = ["train", "8,M,16,M", "--dataset", "synthetic", "--steps", "1", "--device", "cpu", "--no-progress"]
        assert bench([*args, "--out", out]) == 0
        (journal,) = Path(out).glob("*/rows.jsonl")
        (trained,) = [json.loads(line) for line in journal.read_text().splitlines()]
        assert trained["probe"] == 7

    # regress rows: analytic memory carries it; counts do not depend on how a model runs.
    (memory, *_) = deterministic._memory_rows(spec, 32, ("fp32",))
    assert memory["probe"] == 7 and "probe" not in deterministic._analytic_counts(spec, 32)

    # Two latency settings that differ only in probe: the baseline and the report tell them apart.
    other = Trial(spec, kind="latency", **quick)
    two = rows["latency"] + run_trial(other)
    assert trial_id(other) != rows["latency"][0]["trial_id"]
    entries = from_rows(two).entries
    assert len(entries) == 2 and {e.setting["probe"] for e in entries.values()} == {3, 7}
    assert any(label.endswith(" probe=3") for label in entries)  # the default (7) is not named
    frame = pd.DataFrame(two)
    assert [run_label(r) for _, r in frame.iterrows()] == ["cpu fp32 infer @32px probe=3", "cpu fp32 infer @32px"]
    assert len(latency_table(frame)) == 2

    # Per-layer profiles and memory pairs group by it.
    layers = rows["layers"] + [{**r, "probe": 3} for r in rows["layers"]]
    assert len(profile_settings(pd.DataFrame(layers))) == 2
    train = run_trial(Trial(spec, kind="memory", mode="train", **quick))
    pairs = rows["memory"] + train  # probe 3 in inference, 7 in training: not one network's two modes
    assert memory_ratio(pd.DataFrame(pairs)) == ""
    assert memory_ratio(pd.DataFrame([{**r, "probe": 3} for r in pairs])) != ""
    print("ok")


if __name__ == "__main__":
    check(Path(sys.argv[1]).resolve())
