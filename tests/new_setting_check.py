"""Run by tests/test_new_setting.py in a copy of the code whose schema has one more run column, ``probe``.

Every producer of rows and every grouping key must carry it, with no edit but the schema's and the
Trial field that holds it. Prints ``ok`` last; an AssertionError names the producer that lost it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

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
from vggablate.run.schema import ROW_COLUMNS
from vggablate.run.trial import Trial, trial_id
from vggablate.training.recipe import default_train_config

SPEC = resolve_spec("8,M,16,M", head="gap", num_classes=10)
QUICK = {"input_size": 32, "budget_s": 0.02}


def main(copy: Path) -> None:
    assert copy in Path(vggablate.__file__).parents, f"imported {vggablate.__file__}, not the edited copy"
    assert "probe" in ROW_COLUMNS and Trial(SPEC).probe == 7  # the edit is in place

    # Trial rows of every kind, and error rows: the trial's value, default or not.
    rows = {kind: run_trial(Trial(SPEC, kind=kind, probe=3, **QUICK)) for kind in ("counts", "latency", "memory")}
    rows["layers"] = run_trial(Trial(SPEC, kind="layers", **QUICK))
    recipe = replace(default_train_config("synthetic", "cpu"), steps=1)
    rows["accuracy"] = run_trial(Trial(SPEC, kind="accuracy", dataset="synthetic", mode="train", train=recipe))
    rows["error"] = [error_row(Trial(SPEC, probe=3), "boom", "exception", 0.0)]
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
    (memory, *_) = deterministic._memory_rows(SPEC, 32, ("fp32",))
    assert memory["probe"] == 7 and "probe" not in deterministic._analytic_counts(SPEC, 32)

    # Two latency settings that differ only in probe: the baseline and the report tell them apart.
    other = Trial(SPEC, kind="latency", **QUICK)
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
    train = run_trial(Trial(SPEC, kind="memory", mode="train", **QUICK))
    pairs = rows["memory"] + train  # probe 3 in inference, 7 in training: not one network's two modes
    assert memory_ratio(pd.DataFrame(pairs)) == ""
    assert memory_ratio(pd.DataFrame([{**r, "probe": 3} for r in pairs])) != ""
    print("ok")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
