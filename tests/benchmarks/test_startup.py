"""pytest-benchmark: start-up costs a user waits for, an isolated trial's and the CLI's (targets: docs/benchmarks.md).

Run with ``nox -s benchmarks`` (skipped by plain ``python -m pytest``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vggablate import get_arch
from vggablate.run.isolate import run_isolated
from vggablate.run.trial import Trial, trial_id

ROOT = Path(__file__).resolve().parents[2]


def test_isolated_trial_startup(benchmark):
    """A fresh worker process that receives a Trial (importing what a trial imports) and answers."""
    trial = Trial(get_arch("vgg11"))
    run_isolated(trial_id, {"trial": trial}, 120)  # the forkserver starts once per process: not what is timed
    out = benchmark.pedantic(run_isolated, args=(trial_id, {"trial": trial}, 120), rounds=20, warmup_rounds=1)
    assert out.ok and out.value == trial_id(trial)


def test_cli_help_startup(benchmark):
    """``python -m bench --help``: the interpreter, the parser of every command, and no torch (target < 0.5 s)."""
    cmd = [sys.executable, "-m", "bench", "--help"]
    done = benchmark.pedantic(subprocess.run, args=(cmd,), kwargs={"cwd": ROOT, "capture_output": True}, rounds=10)
    assert done.returncode == 0 and b"usage" in done.stdout
