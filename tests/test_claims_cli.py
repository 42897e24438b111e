"""A smoke run of `bench claims` with tiny settings, and adding seeds to it later (through main(), in-process)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import bench_main

TINY = ["--budget", "smoke", "--claims", "lrn", "--epochs", "0.1", "--width", "0.0625"]


def claims(*argv: str) -> subprocess.CompletedProcess:
    return bench_main("claims", *argv)


def journal(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "rows.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def claims_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("claims")
    proc = claims(*TINY, "--seeds", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "expected duration: about" in proc.stderr
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def test_claims_outputs(claims_run):
    text = (claims_run / "claims.md").read_text()
    assert "| lrn " in text and "Sect. 2.3" in text and "Table 2" in text and "torchvision metadata" in text
    lrn = next(line for line in text.splitlines() if line.startswith("| lrn "))
    assert any(v in lrn for v in ("holds", "contradicted", "inconclusive at this budget"))
    assert "A-LRN 29.7 vs A 29.6" in lrn  # the paper's figure beside ours
    html = (claims_run / "report.html").read_text()
    assert "Paper claims" in html and "claim_cost_3x3" in html
    assert (claims_run / "plots" / "claim_lrn.png").is_file() and (
        claims_run / "plots" / "claim_cost_3x3.svg"
    ).is_file()
    rows = journal(claims_run)
    assert sorted((r["arch"], r["seed"]) for r in rows) == [
        ("vgg11", 0),
        ("vgg11", 1),
        ("vgg11_lrn", 0),
        ("vgg11_lrn", 1),
    ]


def test_verdict_is_recomputed_from_the_journal(claims_run, tmp_path):
    # Rewrite the journal so that LRN clearly helps: the rebuilt verdict must flip to contradicted.
    copy = tmp_path / claims_run.name
    shutil.copytree(claims_run, copy)
    rows = journal(copy)
    for r in rows:
        r["top1"] = (95.0 if r["arch"] == "vgg11_lrn" else 60.0) + r["seed"] * 0.1
    (copy / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = bench_main("report", str(copy))
    assert proc.returncode == 0, proc.stderr
    lrn = next(line for line in (copy / "claims.md").read_text().splitlines() if line.startswith("| lrn "))
    assert "contradicted" in lrn


def test_one_seed_shows_the_point_value_without_an_interval(claims_run, tmp_path):
    copy = tmp_path / claims_run.name
    shutil.copytree(claims_run, copy)
    rows = [r for r in journal(copy) if r["seed"] == 0]
    (copy / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert bench_main("report", str(copy)).returncode == 0
    lrn = next(line for line in (copy / "claims.md").read_text().splitlines() if line.startswith("| lrn "))
    assert "(1 seed: no interval)" in lrn and "nan" not in lrn


def test_ctrl_c_names_the_claims_command_that_finishes_the_run(tmp_path, monkeypatch):
    from vggablate.run import drive as runner

    class Interrupted:  # Ctrl-C during the first training run
        def __init__(self, timeout_s):
            pass

        def run(self, trials, on_rows, progress):
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "LocalExecutor", Interrupted)
    proc = claims(*TINY, "--seeds", "1", "--out", str(tmp_path))
    (folder,) = tmp_path.iterdir()
    assert proc.returncode == 130
    # It said `python -m bench run --resume`, which finishes the trials but writes no claims.md and no verdicts.
    assert proc.stderr.splitlines()[-1] == (
        f"interrupted: every finished trial is in {folder / 'rows.jsonl'}; "
        f"resume with: python -m bench claims --resume {folder}"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"vgg11_lrn",', '"vgg11_lrnX",', "config.toml: unknown arch 'vgg11_lrnX'; did you mean vgg11_lrn"),
        ('name = "claims-smoke"', 'name = "claims-smokeX"', "config.toml: name 'claims-smokeX' names no claims budget"),
    ],
    ids=["arch", "name"],
)
def test_resuming_a_hand_edited_folder_is_one_line(claims_run, tmp_path, old, new, message):
    copy = tmp_path / claims_run.name
    shutil.copytree(claims_run, copy)
    config = copy / "config.toml"
    config.write_text(config.read_text().replace(old, new, 1))
    before = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    proc = claims("--resume", str(copy))
    assert (proc.returncode, proc.stderr.count("\n")) == (2, 1), proc.stderr  # was a KeyError traceback
    assert proc.stderr.startswith(f"error: {copy}/") and message in proc.stderr
    assert {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()} == before


def test_adding_seeds_runs_only_the_new_ones(claims_run):
    before = journal(claims_run)
    proc = claims("--resume", str(claims_run), "--seeds", "3")
    assert proc.returncode == 0, proc.stderr
    assert "6 training runs, 2 to run" in proc.stderr
    rows = journal(claims_run)
    assert rows[: len(before)] == before and sorted(r["seed"] for r in rows[len(before) :]) == [2, 2]
    assert "(n=3)" in (claims_run / "claims.md").read_text()


def test_failed_training_runs_fail_the_command_until_retried(claims_run, tmp_path):
    copy = tmp_path / claims_run.name
    shutil.copytree(claims_run, copy)
    rows = journal(copy)
    rows[0] = {**rows[0], "error": "worker died", "error_type": "crash", "top1": None}
    (copy / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = claims("--resume", str(copy))
    assert proc.returncode == 1, proc.stderr
    assert "trials failed (crash 1)" in proc.stderr and f"claims --resume {copy} --retry-errors" in proc.stderr
    assert (copy / "claims.md").is_file()  # the verdicts are written all the same
    proc = claims("--resume", str(copy), "--retry-errors")
    assert proc.returncode == 0, proc.stderr
    assert journal(copy)[-1]["error"] is None


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--claims", "colour"], "unknown claim colour"),
        (["--budget", "cifar"], "needs a CUDA device"),
        (["--resume", "/nonexistent"], "does not exist or is not a folder"),
        (["--retry-errors"], "give it with --resume DIR"),
    ],
)
def test_bad_input(argv, fragment, tmp_path):
    proc = claims(*argv, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and fragment in proc.stderr
