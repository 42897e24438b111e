"""``bench claims --until-stable``: double the epochs until the claims' ranking holds and every net converged.

Each budget is an ordinary claims run folder, ``PARENT/epochs-N/`` (journal, resume, error rows),
so an interrupted search resumes with ``bench claims --resume PARENT``: finished budgets and trials
are kept, only what is missing runs. ``PARENT/stable.json`` holds the search's settings and
``PARENT/stability.md`` the verdicts at each budget.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from vggablate.errors import UsageError

STATE = "stable.json"
DEFAULT_MAX_MINUTES = 120.0
EPOCH_CAP_FACTOR = 8  # default epoch cap: three doublings of the starting budget


@dataclass(frozen=True)
class Search:
    """The settings of one until-stable search, saved in stable.json."""

    budget: str
    claims: tuple[str, ...] | None
    overrides: dict  # the budget overrides given (epochs, seeds, dataset, widths, data_dir)
    start_epochs: float
    max_epochs: float
    max_minutes: float


def is_search_folder(path: str | Path) -> bool:
    """Say whether a folder is an until-stable search (it holds stable.json)."""
    return (Path(path) / STATE).is_file()


def load_search(path: str | Path) -> Search:
    """Read a search folder's settings."""
    try:
        raw = json.loads((Path(path) / STATE).read_text())
        raw["claims"] = tuple(raw["claims"]) if raw.get("claims") else None
        if raw["overrides"].get("widths"):
            raw["overrides"]["widths"] = tuple(raw["overrides"]["widths"])
        return Search(**raw)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"{Path(path) / STATE}: not a readable until-stable state ({exc}); start a new run") from None


def new_search(out: str, search: Search) -> Path:
    """Create the search's parent folder and save its settings."""
    from vggablate.run import sweep
    from vggablate.run.records import atomic_write_text

    folder = sweep.new_run_folder(out, f"claims-{search.budget}-stable").path
    state = {**search.__dict__, "claims": list(search.claims) if search.claims else None}
    atomic_write_text(folder / STATE, json.dumps(state, indent=2, default=list) + "\n")
    return folder


def run_search(parent: Path, search: Search, quiet: bool, retry_errors: bool = False) -> int:
    """Train budget after budget (doubling the epochs) until the claims settle or a cap stops it."""
    from vggablate.claims.stability import decide, stability_markdown

    steps, decisions, epochs, spent = [], [], search.start_epochs, 0.0
    caps = f"caps: {search.max_epochs:g} epochs, {search.max_minutes:g} min of training"
    _say(f"until stable: from {epochs:g} epochs, doubling; {caps} -> {parent}", quiet)
    previous = None
    while True:
        outcome = _run_budget(parent, search, epochs, quiet, retry_errors)
        if outcome is None:
            return 130
        step, top1, failed = outcome
        if previous is not None:
            from vggablate.claims.stability import rank_change

            agreement, same = rank_change(previous, top1)
            step = replace(step, agreement=agreement, same_order=same)
        steps.append(step)
        decisions.append(decide(step))
        spent += step.train_minutes
        _write(parent, search, steps, decisions, stability_markdown)
        _say(f"  {epochs:g} epochs: {'settled' if decisions[-1].settled else 'not settled'}: "
             f"{decisions[-1].reason}", quiet)  # fmt: skip
        if failed:
            print(f"trials failed at {epochs:g} epochs: see {parent / _sub(epochs) / 'summary.md'}; rerun them "
                  f"with python -m bench claims --resume {parent} --retry-errors", file=sys.stderr)  # fmt: skip
            return 1
        if decisions[-1].settled:
            print(f"settled at {epochs:g} epochs: {parent / 'stability.md'}")
            return 0
        nxt = epochs * 2
        # The next budget trains twice as long per run: about twice this one's time.
        if nxt > search.max_epochs or spent + 2 * step.train_minutes > search.max_minutes:
            why = (f"{nxt:g} epochs is past the cap of {search.max_epochs:g}" if nxt > search.max_epochs else
                   f"{nxt:g} epochs would take about {2 * step.train_minutes:.0f} min more, past the "
                   f"{search.max_minutes:g} min cap ({spent:.0f} spent)")  # fmt: skip
            print(f"not settled: stopped at {epochs:g} epochs ({why}); raise --max-epochs/--max-minutes and "
                  f"continue with python -m bench claims --resume {parent} (see {parent / 'stability.md'})",
                  file=sys.stderr)  # fmt: skip
            return 1
        previous, epochs = top1, nxt


def _sub(epochs: float) -> str:
    return f"epochs-{epochs:g}"


def _run_budget(parent: Path, search: Search, epochs: float, quiet: bool, retry_errors: bool):
    """Run (or resume) one budget's folder; return (step, top-1 per seed per arch, failed) or None on Ctrl-C."""
    from bench.common import report_claims
    from vggablate.claims.budgets import BUDGETS, budget_label, claims_config, judge_run, top1_by_arch
    from vggablate.claims.stability import BudgetStep, unconverged_parts
    from vggablate.measure.env import collect_env
    from vggablate.run import drive as runner
    from vggablate.run import sweep

    path = parent / _sub(epochs)
    if path.is_dir():
        plan = runner.plan_resume(path, retry_errors=retry_errors)
    else:
        cfg = claims_config(BUDGETS[search.budget], {**search.overrides, "epochs": epochs}, search.claims)
        trials = runner.resolve_trials(cfg)  # checked before the folder is made
        path.mkdir()
        folder = sweep.RunFolder(path)
        sweep.write_run_files(folder, cfg, collect_env(cfg.device))
        plan = runner.Plan(cfg, folder, trials, trials)
    recipe = next((t.train for t in plan.trials if t.kind == "accuracy"), None)
    label = budget_label(plan.cfg, recipe)
    _say(f"  budget {epochs:g} epochs: {label}; {len(plan.todo)} of {len(plan.trials)} runs to do -> {path}", quiet)
    if not runner.execute(plan, quiet, command="claims", resume_dir=parent):
        return None
    if plan.todo or not (path / "claims.md").is_file():
        judged = report_claims(path, label, quiet=True)[1]
    else:  # a finished budget's reports are already written
        judged = judge_run(path, label)
    rows = judged.rows
    minutes = sum(float(r.get("train_time_s") or 0) for r in rows if r.get("kind") == "accuracy") / 60
    step = BudgetStep(epochs, minutes, {r.claim: r.verdict for r in judged.claims},
                      unconverged_parts(judged.comparisons), None)  # fmt: skip
    return step, top1_by_arch(rows), bool(runner.failures(plan))


def _write(parent: Path, search: Search, steps: list, decisions: list, render) -> None:
    from vggablate.run.records import atomic_write_text

    header = (f"Budget {search.budget}, claims {', '.join(search.claims) if search.claims else 'of the budget'}; "
              f"epochs doubled from {search.start_epochs:g} until Kendall's tau-b between consecutive budgets "
              f"is at least 0.8 and no compared net still improves by more than its comparison's CI half-width "
              f"(caps {search.max_epochs:g} epochs, {search.max_minutes:g} min).")  # fmt: skip
    atomic_write_text(parent / "stability.md", render(steps, decisions, header))


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)
