"""`python -m bench run` end to end: the results folder, failed trials, kill-and-resume, bad input.

Runs go through bench's main() in-process (cli_helpers.bench_main) except where a real process is
the point: SIGKILL and Ctrl-C mid-run, and one smoke test of the `python -m bench` entry point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cli_helpers import BENCH_INTERACTIVE, bench_process
from cli_helpers import bench_main as bench

TINY = ["--input-size", "32", "--width", "0.25", "--head", "gap", "--latency-budget", "0.2", "--quiet"]


def run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir())


def journal(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "rows.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    # A tenth of an epoch of digits (not the CPU default, clutter: 4x the images at 40 px): this test is
    # about the outputs; the accuracy rows, tables and curves are all there in seconds.
    argv = ["run", "--archs", "vgg11,16,M,32,M", "--mode", "infer", "--batch-sizes", "1,2", "--epochs", "0.1",
            "--dataset", "digits", "--out", str(out), "--name", "e2e", *TINY]  # fmt: skip
    proc = bench(*argv)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = run_dirs(out)
    assert f"report: {run_dir / 'report.html'}" in proc.stdout
    return run_dir


def test_every_output_file(full_run):
    for name in ("rows.jsonl", "rows.csv", "rows.parquet", "env.json", "config.toml", "summary.md", "report.html"):
        assert (full_run / name).is_file(), name
    plots = {p.name for p in (full_run / "plots").iterdir()}
    for stem in ("params_macs", "latency_throughput", "memory", "training_curves", "stage_breakdown"):
        assert {f"{stem}.png", f"{stem}.svg"} <= plots
    assert full_run.name.endswith("-e2e")
    env = json.loads((full_run / "env.json").read_text())
    assert env["env_torch"] and "env_cpu" in env


def test_rows_cover_the_grid(full_run):
    rows = journal(full_run)
    kinds = [(r["arch"], r["kind"], r.get("batch_size")) for r in rows if r["kind"] != "accuracy"]
    assert len(rows) == 2 * (1 + 2 + 2 + 1)  # per arch: counts, latency x2, memory x2, accuracy
    assert ("vgg11", "latency", 2) in kinds and ("16,M,32,M", "memory", 1) in kinds
    assert all(r["error"] is None for r in rows)
    assert len({r["trial_id"] for r in rows}) == len(rows)
    acc = [r for r in rows if r["kind"] == "accuracy"]
    assert {(r["dataset"], r["head"], r["input_size"]) for r in acc} == {("digits", "gap", 32)}


def test_summary_and_tables_agree_with_rows(full_run):
    import pandas as pd

    rows = journal(full_run)
    counts = next(r for r in rows if r["kind"] == "counts" and r["arch"] == "vgg11")
    summary = (full_run / "summary.md").read_text()
    assert f"{counts['params'] / 1e6:.3g}" in summary  # three significant digits: a tiny net has 0.709 M
    lat = next(r for r in rows if r["kind"] == "latency" and r["arch"] == "vgg11" and r["batch_size"] == 1)
    assert f"{lat['latency_ms_p50']:.3g}" in summary or f"{lat['latency_ms_p50']:.2f}" in summary
    acc = next(r for r in rows if r["kind"] == "accuracy" and r["arch"] == "vgg11")
    assert f"{acc['top1']:.2f}" in summary
    frame = pd.read_parquet(full_run / "rows.parquet")
    assert len(frame) == len(rows) and set(frame["trial_id"]) == {r["trial_id"] for r in rows}
    csv = pd.read_csv(full_run / "rows.csv")
    assert int(csv.loc[csv["kind"] == "counts", "params"].max()) == max(r["params"] for r in rows if "params" in r)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_report_is_self_contained(full_run):
    parser = _Tags()
    parser.feed((full_run / "report.html").read_text())
    imgs = [a for t, a in parser.tags if t == "img"]
    assert len(imgs) >= 5 and all(a["src"].startswith("data:image/png;base64,") for a in imgs)
    assert sum(t == "table" for t, _ in parser.tags) >= 5
    assert not [t for t, a in parser.tags if t in ("script", "link")]


def test_report_rebuild_reproduces_summary(full_run, tmp_path):
    before = (full_run / "summary.md").read_text()
    (full_run / "summary.md").unlink()
    proc = bench("report", str(full_run))
    assert proc.returncode == 0, proc.stderr
    assert (full_run / "summary.md").read_text() == before


def test_failed_trials_are_rows_reported_and_exit_1(tmp_path):
    # A 0.02 s timeout is shorter than any trial: a worker forked from a warm forkserver starts in
    # about 50 ms, before it traces the model (counts) or samples for 0.2 s (latency). Every trial times out.
    proc = bench("run", "--archs", "vgg11", "--metrics", "params,latency", "--mode", "infer", "--timeout", "0.02",
                 "--out", str(tmp_path), *TINY)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    (run_dir,) = run_dirs(tmp_path)
    rows = journal(run_dir)
    assert {r["error_type"] for r in rows} == {"timeout"}
    assert "Errors" in (run_dir / "summary.md").read_text() and "timeout" in (run_dir / "summary.md").read_text()
    assert f"report: {run_dir / 'report.html'}" in proc.stdout  # everything written before the exit code
    closing = (f"2 of 2 trials failed (timeout 2): see the Errors table in {run_dir / 'summary.md'}; "
               f"rerun them with python -m bench run --resume {run_dir} --retry-errors")  # fmt: skip
    assert proc.stderr.strip().splitlines()[-1] == closing
    resumed = bench("run", "--resume", str(run_dir), "--quiet")  # nothing to run, the failures remain
    assert resumed.returncode == 1 and resumed.stderr.strip().splitlines()[-1] == closing


def test_out_of_memory_rows_are_results_not_failures(tmp_path):
    # 10^8 images do not fit: an `oom` row, the expected end of a batch-size sweep, and exit code 0.
    proc = bench("run", "--archs", "16,M,32,M", "--metrics", "latency", "--mode", "infer", "--batch-sizes",
                 "1,100000000", "--out", str(tmp_path), *TINY)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = journal(run_dirs(tmp_path)[0])
    assert sorted((r["batch_size"], r["error_type"]) for r in rows) == [(1, None), (100000000, "oom")]
    assert "trials failed" not in proc.stderr


def test_arch_options_reach_every_trial(tmp_path):
    proc = bench("run", "--archs", "vgg11,16,M,32,M", "--metrics", "params", "--num-classes", "10", "--batch-norm",
                 "--no-download", "--out", str(tmp_path), *TINY)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = run_dirs(tmp_path)
    rows = journal(run_dir)
    assert {(r["arch"], r["num_classes"], r["batch_norm"]) for r in rows} == {("vgg11", 10, True),
                                                                              ("16,M,32,M", 10, True)}  # fmt: skip
    saved = (run_dir / "config.toml").read_text()
    assert "num_classes = 10" in saved and "batch_norm = true" in saved and "download = false" in saved


def _wait_for_rows(path: Path, n: int, proc: subprocess.Popen, limit: float = 120) -> None:
    deadline = time.time() + limit
    while time.time() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    raise AssertionError("no rows appeared in time")


# Sixteen counts trials: each takes ~0.15 s once its worker forks from the warm forkserver, so the
# run is still going (~2 s of trials left) when the first row appears and the signal is sent.
KILL_ARCHS = sorted(f"{a}{bn}" for a in ("vgg11", "vgg13", "vgg16", "vgg19", "vgg13_k5", "vgg16_k5", "vgg16_k7",
                                         "vgg19_k5") for bn in ("", "_bn"))  # fmt: skip
KILL_ARGV = ["run", "--archs", ",".join(KILL_ARCHS), "--metrics", "params,macs", *TINY]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    """The kill-and-resume sweep run once without interruption: the reports a resumed run must match."""
    out = tmp_path_factory.mktemp("fresh")
    proc = bench(*KILL_ARGV, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = run_dirs(out)
    return run_dir


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_kill_and_resume(tmp_path, how, uninterrupted):
    # A real process: SIGKILL and Ctrl-C must reach the driver and its worker mid-run.
    proc = subprocess.Popen([*BENCH_INTERACTIVE, *KILL_ARGV, "--out", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    out = tmp_path
    deadline = time.time() + 60
    while not (dirs := run_dirs(out)) and time.time() < deadline:
        time.sleep(0.1)
    run_dir = dirs[0]
    _wait_for_rows(run_dir / "rows.jsonl", 1, proc)
    if how == "kill":
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker, mid-trial
        proc.wait(30)
    else:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "resume with: python -m bench run --resume" in err
    done = journal(run_dir)
    assert 1 <= len(done) < len(KILL_ARCHS)
    resumed = bench("run", "--resume", str(run_dir), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    rows = journal(run_dir)
    assert sorted(r["arch"] for r in rows) == KILL_ARCHS
    assert rows[: len(done)] == done  # nothing journaled before the kill was lost or rewritten
    assert (run_dir / "report.html").is_file()
    # The same reports as an uninterrupted run: counts are exact, so the tables match.
    table = lambda d: (d / "summary.md").read_text().split("## Model size")[1]  # noqa: E731
    assert table(run_dir) == table(uninterrupted)


def test_resume_of_a_finished_run_runs_nothing(full_run):
    before = journal(full_run)
    proc = bench("run", "--resume", str(full_run))
    assert proc.returncode == 0, proc.stderr
    assert "0 to run" in proc.stderr and journal(full_run) == before


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--archs", "vgg17"], "unknown arch 'vgg17'; did you mean"),
        (["--archs", "resnet*"], "pattern 'resnet*' matches no registered arch"),
        (["--archs", "64,foo"], "--archs '64,foo': token 2 'foo' is neither a cfg token nor a registered arch"),
        (
            ["--archs", "64,M,x"],
            "token 3 'x' is neither a cfg token nor a registered arch (see `python -m bench list`);"
            " give names comma-separated (vgg11,vgg16) and a cfg as comma-separated tokens",
        ),
        (
            ["--archs", "64,M,Vgg11"],
            "token 3 'Vgg11' is neither a cfg token nor a registered arch (did you mean vgg11?)",
        ),
        (["--archs", "64,M,vgg11,M"], "--archs '64,M,vgg11,M': token 4 'M' is no cfg (a cfg needs a conv"),
        (["--archs", "M,LRN;64"], "tokens 1-2 'M,LRN' is no cfg"),
        (["--archs", "VGG16"], "unknown arch 'VGG16'; did you mean vgg16?"),
        (["--archs", "16,M", "--metrics", "params", "--name", "../../escape"], "run name '../../escape' contains '/'"),
        (["--archs", "16,M", "--metrics", "params", "--name", "a b"], "run name 'a b' contains ' '"),
        (["--archs", "vgg11", "--batch-sizes", "1,,2"], "batch size list '1,,2' has an empty item"),
        (["--archs", "vgg11", "--width", "0.5,"], "width list '0.5,' has an empty item"),
        (["--archs", "vgg11", "--retry-errors"], "--retry-errors reruns the failed trials of a run folder"),
        (["--archs", "vgg11", "--num-classes", "0"], "--num-classes: must be >= 1"),
        (["--archs", "vgg11", "--metrics", "speed"], "unknown metric speed"),
        (["--archs", "vgg11", "--batch-sizes", "0"], "every batch size must be >= 1"),
        (["--archs", "vgg11", "--precision", "int8"], "unknown precision int8"),
        (["--archs", "vgg11", "--device", "cuda"], "--device cuda given, but torch sees no CUDA device"),
        (["--archs", "vgg11", "--input-size", "16"], "too small for 5 max-pools"),
        (["--archs", "vgg11", "--config", "/nonexistent/sweep.toml"], "does not exist"),
        (["--resume", "/nonexistent/run"], "does not exist or is not a folder"),
        (["--archs", "vgg11", "--epochs", "-1"], "must be > 0"),
        (["--archs", "vgg11", "--dataset", "imagefolder:/nonexistent"], "image folder '/nonexistent' not found"),
        (["--archs", "vgg11", "--dataset", "mnist"], "unknown dataset 'mnist'"),
        (["--archs", "vgg11", "--dataset", "clutter:placements=0"], "clutter placements must be at least 1"),
        (["--archs", "vgg11", "--metrics", "accuracy", "--dataset", "clutter:canvas=16"], "canvas=16 is too small"),
        (["--archs", "vgg11", "--precision", "tf32", "--device", "cpu"], "tf32 is a CUDA tensor-core precision"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, argv, fragment):
    if "cuda" in argv:
        import torch

        if torch.cuda.is_available():
            pytest.skip("CUDA present")
    check_refused(bench("run", *argv, "--out", str(tmp_path / "runs")), fragment, tmp_path)


def test_bad_input_through_the_real_entry_point(tmp_path):
    # The in-process cases above share every line of `python -m bench` but the interpreter: run one for real.
    proc = bench_process("run", "--archs", "vgg17", "--out", str(tmp_path / "runs"))
    check_refused(proc, "unknown arch 'vgg17'; did you mean", tmp_path)


def check_refused(proc: subprocess.CompletedProcess, fragment: str, tmp_path: Path) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists()  # refused before any work: no folder made
    assert [p.name for p in tmp_path.iterdir()] == []  # not even one a bad --name would escape to


def test_output_folder_that_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep me")
    proc = bench("run", "--archs", "vgg11", "--metrics", "params", "--out", str(target))
    assert proc.returncode == 2 and "is a file" in proc.stderr
    assert target.read_text() == "keep me"


def test_resume_with_another_sweep_is_refused(full_run):
    before = (full_run / "rows.jsonl").read_bytes()
    proc = bench("run", "--resume", str(full_run), "--archs", "vgg13")
    assert proc.returncode == 2 and "different sweep (differs in: archs" in proc.stderr
    assert (full_run / "rows.jsonl").read_bytes() == before


def test_sweep_file_with_flag_override(tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('archs = ["16,M,32,M"]\nmetrics = ["params", "macs"]\ninput_size = 32\nwidth = [0.5, 1.0]\n')
    proc = bench("run", "--config", str(sweep), "--head", "gap", "--out", str(tmp_path / "runs"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = run_dirs(tmp_path / "runs")
    rows = journal(run_dir)
    assert sorted(r["arch"] for r in rows) == ["16,M,32,M@w0.5", "16,M,32,M@w1"]
    assert {r["head"] for r in rows} == {"gap"}
    saved = (run_dir / "config.toml").read_text()
    assert 'head = "gap"' in saved and "widths = [" in saved
