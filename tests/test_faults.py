"""Faults: a run killed with SIGKILL, a disk that fills mid-write, two runs on one --out.

None may lose or duplicate a row, and none may leave a process behind. Row counts are asserted
before and after each resume.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cli_helpers import BENCH, bench_main
from proc_helpers import HAS_PROC, members, session, wait_until, workers

from vggablate.errors import UsageError
from vggablate.run import drive as runner
from vggablate.run import records, sweep

TINY = ["--archs", "8,M,16,M", "--head", "gap", "--device", "cpu", "--quiet"]
LINUX_ONLY = pytest.mark.skipif(not HAS_PROC, reason="reads the process table in /proc")
assert runner  # imported here, before any subprocess starts: the in-process resume below must not pay torch's import


def journal(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "rows.jsonl").read_text().splitlines()]


def start(argv: list[str], log: Path) -> subprocess.Popen:
    """Start `python -m bench ARGV` as a session of its own: everything it starts stays findable in /proc."""
    with open(log, "w") as err:
        return subprocess.Popen([*BENCH, *argv], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)


def wait_mid_trial(proc: subprocess.Popen, ready=lambda: True) -> None:
    """Wait until ``ready()`` and a trial worker runs (a grandchild: the forkserver's child)."""
    assert wait_until(lambda: proc.poll() is not None or (ready() and workers(proc.pid)), 240)
    assert proc.poll() is None, "the command finished before it could be killed"


def sigkill_and_check_nothing_is_left(proc: subprocess.Popen) -> None:
    """SIGKILL the command, as a CI runner does at its time limit; nothing it started may outlive it."""
    alive = members(proc.pid)
    assert len(alive) >= 3 and workers(proc.pid)  # the command, its forkserver and a trial worker at least
    os.kill(proc.pid, signal.SIGKILL)  # no handler, no finally, no atexit runs in the command
    proc.wait()
    try:
        # Nobody is left to enforce the trial timeout: the worker must go by itself, the forkserver after it.
        assert wait_until(lambda: not session(proc.pid), 10), f"left running: {members(proc.pid)} of {alive}"
    finally:
        for pid in session(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@LINUX_ONLY
def test_a_run_killed_mid_trial_leaves_no_process_and_resumes_with_nothing_lost_or_duplicated(tmp_path):
    out = tmp_path / "runs"
    argv = ["run", *TINY, "--metrics", "params,accuracy", "--dataset", "digits", "--epochs", "1"]
    proc = start([*argv, "--out", str(out), "--name", "killed"], tmp_path / "stderr.txt")
    journals = lambda: list(out.glob("*/rows.jsonl"))  # noqa: E731
    wait_mid_trial(proc, lambda: journals() and journals()[0].read_text().count("\n") == 1)  # counts done
    folder = journals()[0].parent
    # A second process may not run the same trials meanwhile: one line, before any work.
    refused = bench_main("run", "--resume", str(folder))
    assert (refused.returncode, refused.stderr) == (
        2,
        f"error: run folder '{folder}' is in use by another bench process; let it finish (or stop it), then resume\n",
    )
    sigkill_and_check_nothing_is_left(proc)

    before = journal(folder)
    assert [r["kind"] for r in before] == ["counts"]  # the accuracy trial was cut off mid-way
    done = bench_main("run", "--resume", str(folder))
    assert done.returncode == 0, done.stderr
    after = journal(folder)
    assert len(after) == 2 and after[:1] == before and [r["kind"] for r in after] == ["counts", "accuracy"]
    assert len({r["trial_id"] for r in after}) == 2 and after[1]["error"] is None


@LINUX_ONLY
def test_a_profile_killed_mid_trial_leaves_no_process(tmp_path):
    argv = ["profile", "8,M,16,M", "--head", "gap", "--input-size", "16", "--latency-budget", "60", "--no-ledger"]
    proc = start([*argv, "--out", str(tmp_path / "profile")], tmp_path / "stderr.txt")
    wait_mid_trial(proc)
    sigkill_and_check_nothing_is_left(proc)


def test_a_disk_that_fills_mid_write_stops_in_one_line_and_resume_completes_the_run(tmp_path, monkeypatch):
    real = records._write_all
    appends = []

    def full_after_two_trials(fd: int, data: bytes) -> None:
        appends.append(data)
        if len(appends) <= 2:
            return real(fd, data)
        os.write(fd, data[: len(data) // 2])  # half a row reaches the disk, then it is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(records, "_write_all", full_after_two_trials)
    argv = [
        "run",
        *TINY,
        "--input-size",
        "16",
        "--metrics",
        "params,memory",
        "--batch-sizes",
        "1,2,4",
        "--mode",
        "infer",
    ]
    proc = bench_main(*argv, "--out", str(tmp_path))
    (folder,) = tmp_path.iterdir()
    assert (proc.returncode, proc.stderr) == (
        1,
        f"error: cannot append to {folder / 'rows.jsonl'}: No space left on device; every row before it is kept: "
        f"free space, then resume with: python -m bench run --resume {folder}\n",
    )
    assert (folder / "rows.jsonl").read_text().endswith("}\n")  # the half row was cut back: whole rows only
    before = journal(folder)
    assert len(before) == 2 and len(appends) == 3

    monkeypatch.undo()  # space was freed
    done = bench_main("run", "--resume", str(folder))
    assert done.returncode == 0, done.stderr
    after = journal(folder)
    assert len(after) == 4 and after[:2] == before  # counts and 3 memory trials, each once
    assert len({r["trial_id"] for r in after}) == 4 and {r["attempt"] for r in after} == {0}


def test_runs_started_at_once_on_one_out_get_distinct_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep.time, "strftime", lambda fmt: "20260101-000000")  # all in the same second
    barrier = threading.Barrier(8)

    def make(_: int) -> Path:
        barrier.wait()  # then every thread asks for the same folder name at once
        return sweep.new_run_folder(tmp_path, "same").path

    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(make, range(8)))
    assert sorted(p.name for p in paths) == sorted(p.name for p in tmp_path.iterdir())
    assert len(set(paths)) == 8 and tmp_path / "20260101-000000-same" in paths


def test_a_folder_in_use_is_refused_and_leaves_no_lock_file(tmp_path):
    folder = sweep.new_run_folder(tmp_path, "x")
    with sweep.run_lock(folder):
        with pytest.raises(UsageError, match="is in use by another bench process"):
            sweep.check_not_in_use(folder)
    sweep.check_not_in_use(folder)  # released
    assert list(folder.path.iterdir()) == []
