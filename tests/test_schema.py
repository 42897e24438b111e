"""Every producer of rows writes exactly the schema's identity and env columns (vggablate/schema.py)."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bench.__main__ import main
from vggablate import resolve_spec
from vggablate.checks.choices import check_choice, or_list
from vggablate.errors import UsageError
from vggablate.regress import ab, deterministic
from vggablate.regress.baseline import COUNT_FIELDS, SETTING_FIELDS
from vggablate.run.device import resolve_device
from vggablate.run.execute import error_row, run_trial
from vggablate.run.trial import Trial, identity, trial_id
from vggablate.schema import ENV, FIGURES, ROW_COLUMNS
from vggablate.training.recipe import default_train_config

SPEC = resolve_spec("8,M,16,M")
ROW_AND_ENV = set(ROW_COLUMNS) | set(ENV)


def non_figures(row: dict) -> set[str]:
    return set(row) - set(FIGURES)


def test_trial_rows_have_exactly_the_schema_columns():
    (counts,) = run_trial(Trial(SPEC, kind="counts", input_size=32))
    assert non_figures(counts) == ROW_AND_ENV
    assert set(error_row(Trial(SPEC), "boom", "exception", 0.0)) == ROW_AND_ENV


def test_bench_train_rows_match_bench_run_rows_of_the_same_trial(tmp_path):
    args = ["train", "8,M,16,M", "--dataset", "synthetic", "--steps", "1", "--device", "cpu", "--no-progress"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    (run_dir,) = tmp_path.iterdir()  # --out is the parent: the run is <stamp>-train
    (trained,) = [json.loads(line) for line in Path(run_dir, "rows.jsonl").read_text().splitlines()]
    recipe = replace(default_train_config("synthetic", "cpu"), steps=1)
    trial = Trial(SPEC, kind="accuracy", dataset="synthetic", train=recipe, mode="train")
    (swept,) = run_trial(trial)  # what `bench run` writes for the same training run
    # Journaled by the runner, as `bench run`'s rows are: with the attempt number resume reads.
    assert non_figures(trained) - {"attempt"} == non_figures(swept) == ROW_AND_ENV and trained["attempt"] == 0
    assert trained["trial_id"] == swept["trial_id"] == trial_id(trial)
    same = [c for c in ROW_COLUMNS if c not in ("duration_s", "timestamp")]
    assert {c: trained[c] for c in same} == {c: swept[c] for c in same}


def test_regress_producers_use_schema_columns_and_values():
    assert set(SETTING_FIELDS) <= set(ROW_COLUMNS) and set(COUNT_FIELDS) <= set(SETTING_FIELDS)
    (memory, *_) = deterministic._memory_rows(SPEC, 32, ("fp32",))
    setting = {k: memory[k] for k in deterministic.MEMORY_FIELDS}
    full = identity(Trial(SPEC, kind="memory", input_size=32, mode="infer", batch_size=1), "", 0.0)
    assert setting == {k: full[k] for k in deterministic.MEMORY_FIELDS}
    assert set(memory) - set(FIGURES) == set(deterministic.MEMORY_FIELDS)
    side = ab.Side("A", ".", "python", Path("."))
    base = ab._as_baseline(ab.ABConfig(archs=("vgg11",), batch_size=4), side, {"vgg11": [1.0]}, {})
    (entry,) = base.entries.values()
    assert set(entry.setting) <= set(ROW_COLUMNS) and entry.setting["batch_size"] == 4


def test_choices_and_devices_read_one_list():
    with pytest.raises(UsageError, match=r"unknown precision 'fp8'; choose from fp32, tf32, bf16, fp16"):
        check_choice("precision", "fp8", ("fp32", "tf32", "bf16", "fp16"))
    assert or_list(("auto", "cpu", "cuda")) == "auto, cpu or cuda"
    assert resolve_device("cpu") == "cpu" and resolve_device("auto") in ("cpu", "cuda")
    with pytest.raises(UsageError, match=r"unknown device 'gpu'; choose auto, cpu or cuda"):
        resolve_device("gpu")
    assert resolve_device("cuda", check_cuda=False) == "cuda"  # checked where it runs (Ray workers)


def test_every_kind_has_a_runner():
    from vggablate.run.execute import RUNNERS
    from vggablate.schema import KINDS

    assert tuple(RUNNERS) == KINDS
