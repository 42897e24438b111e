"""Outputs that cannot be written, existing runs, memory and exit codes (issue 22).

Every refusal is one `error:` line and exit 2 before any work, and leaves every existing file
byte-identical (hashes of the whole tmp tree before and after).
"""

from __future__ import annotations

import time

import pytest
from cli_helpers import bench_main
from hostile_helpers import assert_refused, make_run_folder, snapshot

from bench import cmd_claims, cmd_run
from vggablate.arch.footprint import model_bytes
from vggablate.arch.registry import get_arch
from vggablate.arch.spec import ArchSpec, parse_cfg
from vggablate.checks.memory import MemoryLimitError, check_fits, clutter_bytes, human_bytes
from vggablate.checks.outputs import check_output_file, check_parent_folder, enclosing_run
from vggablate.claims.budgets import BUDGETS, claims_config
from vggablate.run import drive as runner
from vggablate.run import sweep
from vggablate.run.execute import run_trial
from vggablate.run.memcheck import check_trials_fit
from vggablate.run.records import Journal
from vggablate.run.sweepconfig import SweepConfig, to_toml
from vggablate.run.trial import Trial, trial_id

TINY = ["--head", "gap", "--num-classes", "2", "--input-size", "16", "--batch-sizes", "1", "--latency-budget", "0.05"]


@pytest.fixture
def place(tmp_path):
    """A file, a folder and an existing run folder, side by side."""
    (tmp_path / "file.txt").write_text("a file\n")
    (tmp_path / "folder").mkdir()
    make_run_folder(tmp_path / "runs" / "20260101-000000-kept")
    return tmp_path


def outputs_cases(t):
    run = t / "runs" / "20260101-000000-kept"
    return [
        (["profile", "8,M", *TINY, "--out", str(t / "file.txt")], "is a file"),
        (["profile", "8,M", *TINY, "--out", str(run)], "is the run folder"),
        (["train", "8,M", "--dataset", "digits", "--steps", "1", "--out", str(t / "file.txt")], "is a file"),
        (["train", "8,M", "--dataset", "digits", "--steps", "1", "--out", str(run / "sub")], "lies inside the run"),
        (["data", "show", "clutter", "--out", str(t / "folder")], "is a folder; give a file path"),
        (["data", "show", "clutter", "--out", str(t / "file.txt" / "x.png")], "file.txt' is a file, not a folder"),
        (["data", "show", "clutter", "--out", str(t / ("a" * 300 + ".png"))], "cannot be used: File name too long"),
        (["compare", str(run), str(run), "--out", str(t / "folder")], "is a folder"),
        (["compare", str(run), str(run), "--out", str(run / "rows.jsonl")], "would overwrite the command's input"),
        (["baseline", "save", str(run), "--to", str(t / "folder")], "is a folder"),
        (["baseline", "save", str(run), "--to", str(run / "rows.jsonl")], "would overwrite the command's input"),
        (["baseline", "deterministic", "--to", str(t / "file.txt" / "ci.json")], "is a file, not a folder"),
        (["rank", str(run), str(run), "--out", str(t / "folder")], "is a folder"),
        (["ab", "--archs", "vgg11", "--a", ".", "--b", ".", "--out", str(t / "folder")], "is a folder"),
        (["ab", "--archs", "vgg11", "--a", ".", "--b", ".", "--save-dir", str(t / "file.txt")], "is a file"),
        (["run", "--archs", "8,M", "--metrics", "params", "--out", str(t / "file.txt")], "is a file"),
        (["run", "--archs", "8,M", "--metrics", "params", "--out", str(t / "file.txt" / "x")], "is a file"),
        (["run", "--archs", "8,M", "--metrics", "params", "--out", str(run)], "is the run folder"),
        (["claims", "--budget", "smoke", "--out", str(t / "file.txt")], "is a file"),
        (["claims", "--budget", "smoke", "--out", str(run)], "is the run folder"),
    ]


@pytest.mark.parametrize("case", range(20))
def test_outputs_that_cannot_be_written_are_refused_before_work(place, case):
    argv, fragment = outputs_cases(place)[case]
    before = snapshot(place)
    start = time.perf_counter()
    assert_refused(bench_main(*argv), fragment)
    assert time.perf_counter() - start < 15  # before the work: `profile` used to fail after 15 s of it
    assert snapshot(place) == before


def test_train_into_an_existing_run_folder_leaves_it_byte_identical(place):
    # The example exited 0 and appended to that run's rows.jsonl.
    run = place / "runs" / "20260101-000000-kept"
    before = snapshot(place)
    proc = bench_main("train", "16,M,32,M", "--dataset", "digits", "--steps", "1", "--out", str(run))
    assert_refused(proc, "only --resume may change", "--out")
    assert snapshot(place) == before


def test_train_and_profile_make_fresh_folders_like_run(tmp_path):
    args = ["train", "8,M", "--dataset", "synthetic", "--steps", "1", "--device", "cpu", "--no-progress"]
    assert bench_main(*args, "--out", str(tmp_path)).returncode == 0
    assert bench_main(*args, "--out", str(tmp_path)).returncode == 0
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert len(folders) == 2 and all(f.endswith(("-train", "-train-2")) for f in folders), folders


def test_claims_resume_that_refuses_leaves_config_toml_byte_identical(tmp_path):
    run = tmp_path / "20260101-000000-claims-smoke"
    run.mkdir()
    cfg = claims_config(BUDGETS["smoke"], {}, ("shallow_5x5",))
    (run / "config.toml").write_text(to_toml(cfg))
    (run / "env.json").write_text("{}\n")
    foreign = {"trial_id": "not-in-this-sweep", "kind": "accuracy", "arch": "vgg13", "seed": 0, "error_type": None}
    Journal(run / "rows.jsonl").append(foreign)
    before = snapshot(tmp_path)
    assert_refused(bench_main("claims", "--resume", str(run), "--seeds", "5"), "not in its own sweep")
    assert snapshot(tmp_path) == before


def test_output_checks_in_the_library(tmp_path):
    make_run_folder(tmp_path / "run")
    assert enclosing_run(tmp_path / "run" / "a" / "b") == tmp_path / "run" and enclosing_run(tmp_path) is None
    assert check_parent_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert check_output_file(tmp_path / "report.md", inputs=(tmp_path / "run",)).name == "report.md"
    from vggablate.errors import UsageError

    with pytest.raises(UsageError, match="would replace a run folder's config.toml"):
        check_output_file(tmp_path / "run" / "config.toml")
    with pytest.raises(UsageError, match="lies inside the run folder"):
        sweep.new_run_folder(tmp_path / "run" / "x", "name")
    assert not (tmp_path / "run" / "x").exists()


# ---- memory: estimated from shapes, refused before allocating ----


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["data", "show", "clutter:canvas=100000", "--out", "out/x.png"], "needs 1"),
        (["data", "show", "clutter:placements=1000000", "--out", "out/x.png"], "needs "),
        (["run", "--archs", "vgg11", "--metrics", "latency", "--batch-sizes", "1000000", "--device", "cpu"], "vgg11"),
        (["measure", "vgg11", "--batch-sizes", "1000000"], "batch 1000000"),
        (["profile", "vgg11", "--batch-sizes", "1000000", "--out", "out"], "batch 1000000"),
        (["train", "vgg11", "--width", "1000", "--dataset", "digits", "--device", "cpu"], "vgg11 (accuracy"),
        (["run", "--archs", "vgg11", "--metrics", "accuracy", "--width", "1000", "--dataset", "digits"], "vgg11"),
    ],
)
def test_what_cannot_fit_is_refused_with_the_estimate_and_the_limit(tmp_path, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)  # run and train write under ./results/runs by default: nothing may appear
    line = assert_refused(bench_main(*argv), fragment, "this machine has")
    assert "available" in line and list(tmp_path.iterdir()) == []


def test_estimates_and_limits():
    assert human_bytes(52 * 2**40) == "52 TiB" and human_bytes(23 * 2**30) == "23 GiB" and human_bytes(5) == "5 B"
    with pytest.raises(MemoryLimitError, match="needs 52 TiB; this machine has 23 GiB available"):
        check_fits(52 * 2**40, "x", "cpu", limit=23 * 2**30)
    check_fits(2**30, "x", "cpu", limit=2**31)
    assert isinstance(MemoryLimitError("x"), MemoryError)  # in a trial: an `oom` row (isolate.error_type_of)
    # The figure: canvas=100000 asked for about 52 TiB per split of uint8 images.
    assert 50 * 2**40 < clutter_bytes(100000, 16, 4, 8, 4, 0) < 60 * 2**40
    vgg16 = get_arch("vgg16")
    infer, train = (sum(model_bytes(vgg16, 224, 1, m).values()) for m in ("infer", "train"))
    assert 0.5e9 < infer < 0.6e9 and 1.6e9 < train < 1.9e9  # weights 553 MB; x3 with grads and momentum


def test_the_default_run_passes_the_memory_check_on_a_small_machine():
    # `bench run --archs vgg11,vgg16` on CPU: both modes at batch 1, and the clutter training runs.
    cfg = SweepConfig(archs=("vgg11", "vgg16"), modes=("infer", "train"), dataset="clutter")
    trials = sweep.plan_trials(cfg, sweep.resolve_archs(cfg))
    check_trials_fit(trials, limit=3 * 2**30)
    with pytest.raises(MemoryLimitError):
        check_trials_fit(trials, limit=2**30)


def test_a_cpu_trial_refuses_to_allocate_what_cannot_fit():
    spec = ArchSpec("t", parse_cfg("8,M"), head="gap", num_classes=2)
    with pytest.raises(MemoryLimitError, match="needs"):
        run_trial(Trial(spec, kind="latency", input_size=16, batch_size=10**12))


# ---- exit codes: failure is never reported as success ----


def _plan(tmp_path, error_types):
    spec = ArchSpec(name="t", cfg=parse_cfg("8,M"))
    trials = [Trial(spec, kind="latency", batch_size=b) for b in range(1, len(error_types) + 1)]
    tmp_path.mkdir(exist_ok=True)
    folder = sweep.RunFolder(tmp_path)
    for trial, error_type in zip(trials, error_types):
        Journal(folder.journal).append({"trial_id": trial_id(trial), "attempt": 0, "error_type": error_type})
    return runner.Plan(SweepConfig(archs=("t",)), folder, trials, [])


def test_a_run_in_which_every_trial_ran_out_of_memory_exits_1(tmp_path, capsys):
    assert cmd_run.report_failures(_plan(tmp_path, ["oom", "oom"])) == 1
    assert capsys.readouterr().err.startswith("nothing was measured: all 2 trials ran out of memory")
    assert cmd_run.report_failures(_plan(tmp_path / "x", [None, "oom"])) == 0  # a batch-size sweep's end: a result


def test_a_claims_run_with_nothing_to_judge_counts_as_undecided(tmp_path):
    Journal(tmp_path / "rows.jsonl").append({"trial_id": "a", "kind": "accuracy", "arch": "vgg11", "top1": None,
                                             "seed": 0, "error_type": "oom"})  # fmt: skip
    assert cmd_claims._judged(tmp_path) is False


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["report", "{t}/file.txt"], "is a file"),
        (["report", "{t}/missing"], "no run folder"),
        (["report", "{t}/folder"], "has no rows.jsonl"),
        (["list", "../*"], "no registered arch matches"),
        (["eval", "vgg11", "--weights", "{t}/missing.pth", "--dataset", "imagefolder:{t}/missing", "--device", "cpu"],
         "image folder"),
        (["rank", "{t}/missing", "{t}/missing"], "no run folder"),
        (["compare", "{t}/missing", "{t}/missing"], "no such baseline file or run folder"),
        (["baseline", "save", "{t}/missing", "--to", "{t}/new/x.json"], "no such baseline file or run folder"),
        (["data", "show", "digits", "--out", "{t}/x.png"], "has no sample reader"),
        (["data"], "data needs an action"),
    ],
)  # fmt: skip
def test_every_command_refuses_a_missing_or_wrong_input_in_one_line(place, argv, fragment):
    before = snapshot(place)
    assert_refused(bench_main(*(a.format(t=place) for a in argv)), fragment)
    assert snapshot(place) == before
