"""Drive a sweep: open or resume its folder, run the pending trials, build the reports.

Shared by ``bench run`` and ``bench claims``: one path from a SweepConfig to a results folder.
"""

from __future__ import annotations

import errno
import os
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from vggablate.errors import RunError, UsageError
from vggablate.run import sweep
from vggablate.run.executors import LocalExecutor, Progress
from vggablate.run.memcheck import check_trials_fit
from vggablate.run.records import (
    RETRYABLE_ERRORS,
    JournalWarning,
    JournalWriteError,
    atomic_write_text,
    last_attempts,
    latest_attempts,
    read_rows,
)
from vggablate.run.sweepconfig import SweepConfig, spec_overrides, to_toml, validate_config
from vggablate.run.trial import PROGRESS_ENV, Trial, check_trial, trial_id


@dataclass(frozen=True)
class Plan:
    """A sweep ready to run: its folder, every trial, and those not yet journaled."""

    cfg: SweepConfig
    folder: sweep.RunFolder
    trials: list[Trial]
    todo: list[Trial]
    attempts: dict[str, int] = field(default_factory=dict)  # trial_id -> last attempt in the journal


def plan_new(cfg: SweepConfig, out: str | Path, trials: list[Trial] | None = None) -> Plan:
    """Resolve and check a new sweep (unless its trials are given), then create its folder."""
    from vggablate.measure.env import collect_env

    trials = resolve_trials(cfg) if trials is None else trials
    folder = sweep.new_run_folder(out, cfg.name)
    sweep.write_run_files(folder, cfg, collect_env(cfg.device))
    return Plan(cfg, folder, trials, trials)


def plan_resume(run_dir: str | Path, given: SweepConfig | None = None, retry_errors: bool = False) -> Plan:
    """Reopen a run folder: only the trials not yet in its journal remain (refuse another sweep's folder)."""
    folder, cfg, rows = sweep.load_resume(run_dir)
    sweep.check_not_in_use(folder)
    try:
        trials = resolve_trials(cfg)
    except UsageError as exc:  # e.g. an arch renamed by hand: say which file holds it
        raise UsageError(f"{folder.path / 'config.toml'}: {exc}") from None
    sweep.check_resume(cfg, given, rows, trials)
    return Plan(cfg, folder, trials, sweep.pending(trials, rows, retry_errors), last_attempts(rows))


def plan_more_seeds(run_dir: str | Path, overrides: dict, retry_errors: bool = False) -> Plan:
    """Resume with more seeds: the trials done stay valid, the grown config is saved, the new seeds run."""
    folder, saved, rows = sweep.load_resume(run_dir)
    sweep.check_not_in_use(folder)
    grown = replace(saved, **{k: v for k, v in overrides.items() if v is not None})
    diff = set(sweep.differences(saved, grown)) - {"seeds", "data_dir"}
    if diff or grown.seeds < saved.seeds:
        what = ", ".join(sorted(diff)) or "fewer seeds"
        raise UsageError(f"--resume can only add seeds (the trials done stay valid), not {what}; start a new run")
    validate_config(grown)
    trials = resolve_trials(grown)
    sweep.check_resume(grown, None, rows, trials)
    # Only now, every check passed: a refused resume leaves config.toml byte-identical.
    atomic_write_text(folder.path / "config.toml", to_toml(grown))
    return Plan(grown, folder, trials, sweep.pending(trials, rows, retry_errors), last_attempts(rows))


def resolve_trials(cfg: SweepConfig) -> list[Trial]:
    """Return the sweep's trials, every setting checked: call it before making a folder or running a trial."""
    specs = [replace(s, **spec_overrides(cfg)) for s in sweep.resolve_archs(cfg)]
    sweep.check_trials(cfg, specs)
    trials = sweep.plan_trials(cfg, specs)
    for trial in trials:
        check_trial(trial)
    check_trials_fit(trials)  # a setting that cannot fit even at its smallest batch: one line, no folder
    return trials


def execute(
    plan: Plan,
    quiet: bool = False,
    executor: object | None = None,
    command: str = "run",
    resume_dir: str | Path | None = None,
) -> bool:
    """Run the pending trials into the journal; return False when interrupted (Ctrl-C).

    ``command`` is the bench command that resumes the folder (``run``, ``claims``), for the messages;
    ``resume_dir`` the folder it resumes, when not the run's own (an --until-stable search's parent).
    The folder is held (sweep.run_lock) meanwhile: a second process cannot run the same trials.
    """
    executor = executor or LocalExecutor(timeout_s=plan.cfg.timeout_s)
    resume = f"python -m bench {command} --resume {resume_dir or plan.folder.path}"
    with sweep.run_lock(plan.folder):
        todo = _still_to_do(plan)
        progress = Progress(len(plan.trials), len(plan.trials) - len(todo), sweep.trial_label, quiet)
        if progress.enabled:
            os.environ[PROGRESS_ENV] = "1"  # spawned workers inherit it: accuracy trials show their own bar
        try:
            executor.run(todo, sweep.journal_callback(plan.folder, plan.attempts), progress)
        except KeyboardInterrupt:
            progress.close()
            print(f"interrupted: every finished trial is in {plan.folder.journal}; resume with: {resume}",
                  file=sys.stderr)  # fmt: skip
            return False
        except JournalWriteError as exc:
            progress.close()
            full = getattr(exc.__cause__, "errno", None) in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
            fix = "free space" if full else "fix that"
            raise RunError(f"{exc}; every row before it is kept: {fix}, then resume with: {resume}") from None
        finally:
            os.environ.pop(PROGRESS_ENV, None)
    progress.close()
    return True


def measured(plan: Plan) -> int:
    """Count the sweep's trials whose latest attempt has a result (no error of any kind, OOM included)."""
    rows = latest_attempts(read_rows(plan.folder.journal)) if plan.folder.journal.exists() else []
    ids = {trial_id(t) for t in plan.trials}
    return len({r["trial_id"] for r in rows if r.get("trial_id") in ids and not r.get("error_type")})


def _still_to_do(plan: Plan) -> list[Trial]:
    """Drop the planned trials that another process journaled between planning and taking the folder."""
    if not plan.folder.journal.exists():
        return plan.todo
    with warnings.catch_warnings():  # the plan's own read already said what is damaged
        warnings.simplefilter("ignore", JournalWarning)
        now = last_attempts(read_rows(plan.folder.journal))
    return [t for t in plan.todo if now.get(trial_id(t), -1) <= plan.attempts.get(trial_id(t), -1)]


def failures(plan: Plan) -> Counter[str]:
    """Count the sweep's trials whose latest attempt failed (timeout, crash, exception), by error type."""
    # An OOM is a result (the model does not fit at that batch size), not a failure: not counted.
    rows = latest_attempts(read_rows(plan.folder.journal)) if plan.folder.journal.exists() else []
    ids = {trial_id(t) for t in plan.trials}
    kinds = {r["trial_id"]: r["error_type"] for r in rows if r.get("error_type") in RETRYABLE_ERRORS}
    return Counter(kind for tid, kind in kinds.items() if tid in ids)
