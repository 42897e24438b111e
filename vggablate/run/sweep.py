"""Sweeps: resolve archs, plan the trial grid, run it through an executor into the journal, resume.

Every finished trial's rows are appended (and fsync'ed) to ``rows.jsonl`` as the trial ends, so
Ctrl-C or a kill loses nothing that finished; ``--resume`` runs only the trials not yet in it.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from vggablate.arch.archfile import load_arch_file, read_arch_file
from vggablate.arch.factory import resolve_spec
from vggablate.arch.registry import is_registered, list_archs
from vggablate.arch.spec import ArchSpec, check_input_size, looks_like_cfg
from vggablate.checks.names import safe_stem
from vggablate.checks.outputs import JOURNAL, check_parent_folder, confine
from vggablate.data.catalog import LoadOptions, check_dataset
from vggablate.errors import UsageError
from vggablate.run.executors import RowsCallback
from vggablate.run.records import Journal, atomic_write_text, done_trial_ids, read_rows
from vggablate.run.sweepconfig import SweepConfig, differences, read_sweep_file, to_toml, validate_config
from vggablate.run.trial import Trial, fit_trial, trial_id
from vggablate.training.recipe import TrainConfig, default_train_config
from vggablate.words import plural


def register_arch_files(paths: Iterable[str]) -> None:
    """Register the archs of each arch file once (a resumed or repeated sweep may name it again)."""
    for path in paths:
        if not all(is_registered(spec.name) for spec in read_arch_file(path)):
            load_arch_file(path)


def resolve_archs(cfg: SweepConfig) -> list[ArchSpec]:
    """Turn names, glob patterns and cfg strings into specs, with the sweep's head and widths applied."""
    register_arch_files(cfg.arch_files)
    specs: list[ArchSpec] = []
    for item in cfg.archs:
        if is_registered(item) or looks_like_cfg(item):
            specs.append(resolve_spec(item))
        elif any(ch in item for ch in "*?["):
            names = list_archs(item)
            if not names:
                raise UsageError(f"pattern {item!r} matches no registered arch; see `python -m bench list`")
            specs.extend(resolve_spec(n) for n in names)
        else:
            specs.append(resolve_spec(item))  # raises with the closest names
    unique = list({s.name: s for s in specs}.values())
    if cfg.head:
        unique = [replace(s, head=cfg.head) for s in unique]
    if not cfg.widths:
        return unique
    label = len(cfg.widths) > 1  # several widths of one arch need distinct names in the reports
    return [replace(s, width=w, name=f"{s.name}@w{w:g}" if label else s.name) for s in unique for w in cfg.widths]


def plan_trials(cfg: SweepConfig, specs: list[ArchSpec]) -> list[Trial]:
    """Expand the grid into trials: counts, then latency and memory per setting, then accuracy per seed.

    Accuracy trials are fitted to their data and device here (fit_trial), so each carries the
    settings its row will show.
    """
    trials: list[Trial] = []
    base = dict(input_size=cfg.input_size, device=cfg.device, channels_last=cfg.channels_last,
                compile=cfg.compile, cudnn_benchmark=cfg.device == "cuda")  # fmt: skip
    for spec in specs:
        if {"params", "macs"} & set(cfg.metrics):
            trials.append(Trial(spec=spec, kind="counts", **base))
        for kind in (k for k in ("latency", "memory", "layers") if k in cfg.metrics):
            for precision, mode, bs in itertools.product(cfg.precisions, cfg.modes, cfg.batch_sizes):
                trials.append(Trial(spec=spec, kind=kind, precision=precision, mode=mode, batch_size=bs,
                                    budget_s=cfg.latency_budget_s, **base))  # fmt: skip
        if "accuracy" in cfg.metrics:
            recipe = train_config(cfg)
            for seed in range(cfg.seeds):
                planned = Trial(spec=spec, kind="accuracy", seed=seed, dataset=cfg.dataset, train=recipe,
                                data_dir=cfg.data_dir, download=cfg.download, device=cfg.device,
                                mode="train")  # fmt: skip
                trials.append(fit_trial(planned))
    return trials


# SweepConfig's recipe overrides -> TrainConfig's fields (`bench train`'s flags).
_RECIPE_FIELDS = {"steps": "steps", "train_batch_size": "batch_size", "lr": "lr", "schedule": "schedule",
                  "target_top1": "target_top1"}  # fmt: skip


def train_config(cfg: SweepConfig) -> TrainConfig:
    """Return the training recipe of the sweep's accuracy trials: the trainer's defaults, overridden."""
    recipe = default_train_config(cfg.dataset, cfg.device)
    if cfg.epochs is not None:
        recipe = replace(recipe, epochs=cfg.epochs, steps=None)
    if cfg.widths:  # the sweep's widths are already on the specs: train at them
        recipe = replace(recipe, width=None, narrow_from=None)
    if cfg.head:
        recipe = replace(recipe, head=cfg.head)
    given = {field: getattr(cfg, key) for key, field in _RECIPE_FIELDS.items() if getattr(cfg, key) is not None}
    return replace(recipe, **given)


def check_trials(cfg: SweepConfig, specs: list[ArchSpec]) -> None:
    """Refuse, before any work, settings no trial could run with; make the data set ready once."""
    if "accuracy" in cfg.metrics:
        # Here, not in each trial: bad parameters, a set too large for memory or a missing data set
        # are one error before any folder is made, and the trials find the files extracted or
        # decompressed, none downloading.
        options = LoadOptions(cfg.data_dir, cfg.download)
        check_dataset(cfg.dataset).prepare(cfg.dataset, options)
    if {"params", "macs", "latency", "memory", "layers"} & set(cfg.metrics):
        for spec in specs:
            try:
                check_input_size(spec.cfg, cfg.input_size)
            except UsageError as exc:
                raise UsageError(f"{spec.name}: {exc}") from None


@dataclass(frozen=True)
class RunFolder:
    """A run's folder and its journal."""

    path: Path

    @property
    def journal(self) -> Path:
        """The rows.jsonl journal."""
        return self.path / JOURNAL


def new_run_folder(out: str | Path, name: str) -> RunFolder:
    """Create ``OUT/<timestamp>-<name>/``; refuse an --out that is a file, or lies in a run folder."""
    out = check_parent_folder(out)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in itertools.count(1):
        path = out / (f"{stamp}-{name}" if n == 1 else f"{stamp}-{name}-{n}")
        confine(out, path)  # the name follows names.py's rule; the resolved path is checked as well
        try:
            # Exclusive: of two runs started in the same second (two CI jobs, one --out), one makes
            # the folder and the other gets FileExistsError and the next suffix; never both the same.
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        except OSError as exc:
            raise UsageError(f"cannot create run folder {str(path)!r}: {exc.strerror}") from None
        return RunFolder(path)
    raise AssertionError("unreachable")  # itertools.count never ends


@contextmanager
def run_lock(folder: RunFolder) -> Iterator[None]:
    """Hold the run folder for this process while it runs trials; another process gets a one-line UsageError.

    An advisory ``flock`` on the folder itself, not on a lock file: refusing must not leave a file
    in somebody's run. The kernel drops it when the holder exits, however it exits, so a run killed
    with SIGKILL leaves no stale lock for ``--resume`` to trip on.
    """
    try:
        import fcntl
    except ImportError:  # no advisory locks here (Windows): run unguarded
        yield
        return
    fd = os.open(folder.path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"run folder {str(folder.path)!r} is in use by another bench process; "
                "let it finish (or stop it), then resume"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def check_not_in_use(folder: RunFolder) -> None:
    """Refuse, before any work, to resume a folder that another live process is running trials in."""
    with run_lock(folder):
        pass


def default_name(cfg: SweepConfig) -> str:
    """Name a run after its archs (shortened), for the folder name."""
    text = "_".join(a.replace(",", "-").replace("*", "x") for a in cfg.archs)
    return safe_stem(text)  # names.py's rule, as for a --name given


def write_run_files(folder: RunFolder, cfg: SweepConfig, env: dict) -> None:
    """Write the resolved config and the environment beside the journal (atomically)."""
    atomic_write_text(folder.path / "config.toml", to_toml(cfg))
    atomic_write_text(folder.path / "env.json", json.dumps(env, indent=2, sort_keys=True) + "\n")


def load_resume(run_dir: str | Path) -> tuple[RunFolder, SweepConfig, list[dict]]:
    """Open a run folder to resume: its saved config and the rows already journaled."""
    path = Path(run_dir)
    if not path.is_dir():
        raise UsageError(f"resume folder {str(path)!r} does not exist or is not a folder")
    if not (path / "config.toml").is_file():
        raise UsageError(f"resume folder {str(path)!r} has no config.toml; is it a `bench run` folder?")
    cfg = validate_config(SweepConfig(**read_sweep_file(path / "config.toml")))
    folder = RunFolder(path)
    rows = read_rows(folder.journal) if folder.journal.exists() else []
    return folder, cfg, rows


def check_resume(saved: SweepConfig, given: SweepConfig | None, rows: list[dict], planned: list[Trial]) -> None:
    """Refuse to resume a folder with a sweep other than the one that made it."""
    if given is not None:
        diff = differences(saved, given)
        if diff:
            raise UsageError(
                f"resume folder was made by a different sweep (differs in: {', '.join(diff)}); "
                "resume with --resume DIR alone, or start a new run"
            )
    planned_ids = {trial_id(t) for t in planned}
    foreign = {r.get("trial_id") for r in rows} - planned_ids
    if foreign:
        trials = plural(len(foreign), "trial")
        raise UsageError(f"resume folder holds {trials} not in its own sweep; was it edited by hand?")


def pending(trials: list[Trial], rows: list[dict], retry_errors: bool = False) -> list[Trial]:
    """Return the trials whose rows are not yet in the journal."""
    done = done_trial_ids(rows, retry_errors=retry_errors)
    return [t for t in trials if trial_id(t) not in done]


def trial_label(trial: Trial) -> str:
    """A short human label for progress output."""
    if trial.kind == "counts":
        return f"{trial.spec.name} counts"
    if trial.kind == "accuracy":
        return f"{trial.spec.name} accuracy seed {trial.seed}"
    return f"{trial.spec.name} {trial.kind} {trial.mode} {trial.precision} bs{trial.batch_size}"


def journal_callback(folder: RunFolder, attempts: dict[str, int] | None = None) -> RowsCallback:
    """Return a callback that appends a finished trial's rows to the journal in one write.

    A trial that already has rows (a rerun of a crashed trial) gets the next ``attempt`` number,
    so the reports show its latest attempt while the journal keeps the history.
    """
    journal = Journal(folder.journal)
    attempts = attempts or {}

    def on_rows(trial: Trial, rows: list[dict]) -> None:
        tid = trial_id(trial)
        attempt = attempts.get(tid, -1) + 1
        journal.extend([{**row, "attempt": attempt} for row in rows])

    return on_rows
