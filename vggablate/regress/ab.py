"""A/B runs: time two code states interleaved in one job (A B, B A, ...) and pool each side's samples.

Two runs measured minutes apart on a shared CI runner differ by more than most regressions (other
jobs, thermal state, noisy neighbours); alternating short bursts of A and B within one job
exposes both sides to the same drift, so what remains between them is the code. The order
flips every round (AB, BA, AB, ...) so neither side always runs first after a pause.
A side is a git revision (checked out in a temporary ``git worktree``, run with this interpreter),
a python executable (this tree's code under another environment, e.g. another torch) or ``.``
(this tree as it is, uncommitted edits included). Every round starts a fresh process per side.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from vggablate.errors import UsageError
from vggablate.regress.baseline import SETTING_FIELDS, Baseline, Entry, setting_label

RUNNER = Path(__file__).with_name("ab_worker.py")


@dataclass(frozen=True)
class Side:
    """One code state: which interpreter runs it and which folder holds its vggablate."""

    name: str  # "A" or "B"
    given: str  # what the user typed: a revision, a python path or "."
    python: str
    code: Path  # first on PYTHONPATH, and the runner's working folder


@dataclass(frozen=True)
class ABConfig:
    """What to time and how many interleaved rounds."""

    archs: tuple[str, ...]
    options: tuple[tuple[str, object], ...] = ()  # create_model options (width, head, num_classes, ...)
    rounds: int = 10  # fresh processes per side: process-level effects (allocation, layout) average out
    samples: int = 10  # timed steps per side and round; 10 x 10 = 100 per side
    warmup: int = 3  # untimed steps per process: allocator, caches, oneDNN primitive creation
    batch_size: int = 1
    input_size: int = 224
    mode: str = "infer"
    device: str = "cpu"
    precision: str = "fp32"
    channels_last: bool = False
    threads: int | None = None  # None: torch's default; 1 is the steadiest on a shared runner
    seed: int = 0
    timeout_s: float = 900.0  # per process


def this_tree() -> Path:
    """Return the folder that holds the running vggablate package (the '.' side)."""
    return Path(__file__).resolve().parents[2]


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


@contextlib.contextmanager
def open_side(name: str, given: str, repo: Path | None = None) -> Iterator[Side]:
    """Resolve '.', a python executable or a git revision into a Side; a worktree is removed afterwards."""
    repo = repo or this_tree()
    path = Path(given).expanduser()
    if given == ".":
        yield Side(name, given, sys.executable, repo)
        return
    if path.is_file() and os.access(path, os.X_OK):
        yield Side(name, given, str(path.resolve()), repo)
        return
    rev = _git(repo, "rev-parse", "--verify", "--quiet", f"{given}^{{commit}}")
    if rev.returncode != 0:
        raise UsageError(f"--{name.lower()} {given!r} is neither '.', a python executable nor a git revision of {repo}")
    tmp = Path(tempfile.mkdtemp(prefix=f"vggablate-ab-{name}-"))
    tree = tmp / "tree"
    added = _git(repo, "worktree", "add", "--detach", str(tree), rev.stdout.strip())
    if added.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UsageError(f"cannot check out {given!r}: {added.stderr.strip().splitlines()[-1:]}")
    try:
        yield Side(name, given, sys.executable, tree)
    finally:
        _git(repo, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(tmp, ignore_errors=True)
        _git(repo, "worktree", "prune")


def job_of(cfg: ABConfig) -> dict:
    """Return the runner's JSON job for a config."""
    keys = ("batch_size", "input_size", "mode", "device", "precision", "channels_last", "threads", "seed",
            "samples", "warmup")  # fmt: skip
    return {"archs": list(cfg.archs), "options": dict(cfg.options), **{k: getattr(cfg, k) for k in keys}}


def run_side(side: Side, cfg: ABConfig) -> dict:
    """Run one burst of every arch in a fresh process of the side; return the runner's output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(side.code), os.environ.get("PYTHONPATH", "")])}
    cmd = [side.python, "-c", RUNNER.read_text(encoding="utf-8"), json.dumps(job_of(cfg))]
    try:
        proc = subprocess.run(cmd, cwd=side.code, env=env, capture_output=True, text=True, timeout=cfg.timeout_s)
    except subprocess.TimeoutExpired:
        raise UsageError(f"side {side.name} ({side.given}) took over {cfg.timeout_s:g} s for one round") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"side {side.name} ({side.given}) failed (exit {proc.returncode}): {last}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    where = Path(out["vggablate"]).resolve()
    if side.code.resolve() not in where.parents:
        raise UsageError(f"side {side.name} ({side.given}) imported vggablate from {where}, not from {side.code}")
    return out


def run_ab(cfg: ABConfig, a: Side, b: Side, on_round: Callable[[int, dict, dict], None] | None = None) -> tuple:
    """Run cfg.rounds interleaved rounds (AB, BA, ...); return each side's pooled samples as a Baseline."""
    pooled: dict[str, dict[str, list[float]]] = {"A": {}, "B": {}}
    last: dict[str, dict] = {}
    for r in range(cfg.rounds):
        for side in (a, b) if r % 2 == 0 else (b, a):
            last[side.name] = run_side(side, cfg)
            for arch, samples in last[side.name]["samples_ms"].items():
                pooled[side.name].setdefault(arch, []).extend(samples)
        if on_round:
            on_round(r, last["A"], last["B"])
    return _as_baseline(cfg, a, pooled["A"], last["A"]), _as_baseline(cfg, b, pooled["B"], last["B"])


def _as_baseline(cfg: ABConfig, side: Side, samples: dict[str, list[float]], info: dict) -> Baseline:
    options = dict(cfg.options)
    model = {k: options[k] for k in ("width", "head", "num_classes") if options.get(k) is not None}
    entries = {}
    # The gate's setting columns (schema names), as many as an A/B config fixes; the model's from its options.
    run = {k: getattr(cfg, k) for k in SETTING_FIELDS if k in {f.name for f in fields(ABConfig)}}
    for arch, values in samples.items():
        setting = {"arch": arch, "kind": "latency", **run, **model}
        entries[setting_label(setting)] = Entry(setting, {"latency_samples_ms": values})
    # Both sides ran on this machine in this job: the same fingerprint, so latency is compared.
    machine = {"cpu": platform.processor() or platform.machine(), "threads": info.get("threads")}
    software = {"torch": info.get("torch"), "git_rev": side.given}
    return Baseline(entries, machine, software, source=f"{side.name}={side.given}")
