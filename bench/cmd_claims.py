"""``python -m bench claims``: put the VGG paper's claims to measured tests, with computed verdicts."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from bench.claims_stable import is_search_folder
from bench.common import check_parent_folder, epochs_type, number_type, positive_float, seeds_type
from vggablate.checks.outputs import JOURNAL

BUDGET_NAMES = ("smoke", "cpu", "fashion", "cifar")  # vggablate.claims.budgets.BUDGETS (a test checks they agree)
minutes_type = number_type(maximum=7 * 24 * 60)  # a cap on training time: > 0, at most a week


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the claims command."""
    p = sub.add_parser("claims", help="reproduce the VGG paper's claims (claims.md, plots, report section)")
    p.add_argument("--budget", choices=BUDGET_NAMES, help="smoke: CPU+digits, a demo in minutes; fashion: CPU+"
                   "Fashion-MNIST, 3 epochs x 4 seeds, about 43 min, depth and 3x3 vs 5x5 (default without a GPU "
                   "where Fashion-MNIST is installed); cpu: CPU+cluttered digits, 16 epochs x 6 seeds, the same "
                   "claims (default without a GPU otherwise); cifar: GPU+CIFAR-10 (default with one)")  # fmt: skip
    p.add_argument("--claims", help="comma list of accuracy claims to run: shallow_5x5, depth, lrn, one_by_one "
                   "(default: all, except --budget cpu and fashion: shallow_5x5,depth; the cost and static claims "
                   "are always judged)")  # fmt: skip
    p.add_argument("--epochs", type=epochs_type, help="override the budget's epochs")
    p.add_argument("--seeds", type=seeds_type, help="override the budget's seeds per arch (with --resume: "
                   "add seeds up to N)")  # fmt: skip
    p.add_argument("--dataset", help="override the budget's data set")
    p.add_argument("--width", type=positive_float, help="train every arch at this width")
    p.add_argument("--data-dir", help="where datasets are cached or found")
    p.add_argument("--out", default="results/runs", help="parent folder of run folders (default results/runs)")
    p.add_argument("--resume", metavar="RUN_DIR", help="reuse a claims run folder: only missing trials run "
                   "(add seeds later: --resume DIR --seeds N)")  # fmt: skip
    p.add_argument("--retry-errors", action="store_true", help="with --resume: also rerun trials that failed")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--until-stable", action="store_true", help="double the epochs (each budget a folder "
                   "PARENT/epochs-N) until Kendall's tau between consecutive budgets is >= 0.8 and no compared "
                   "net still improves; resume with --resume PARENT")  # fmt: skip
    p.add_argument("--max-epochs", type=epochs_type, help="with --until-stable: the epoch cap (default 8x the "
                   "starting budget)")  # fmt: skip
    p.add_argument("--max-minutes", type=minutes_type, help="with --until-stable: stop before a budget that "
                   "would take the training past this many minutes (default 120)")  # fmt: skip
    p.add_argument("--kernels", action="store_true", help="also time the beyond-the-paper claim on the budget's "
                   "device: 3x3 convs cheaper per MAC than 5x5/7x7 (about a minute)")  # fmt: skip
    p.add_argument("--kernels-only", metavar="DEVICE", choices=("cpu", "cuda"),
                   help="time only that claim on DEVICE, print its verdicts and exit (no training)")  # fmt: skip
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the claims' sweep (or resume it), then judge every claim and write the outputs."""
    import torch

    from bench.common import choice_list, report_claims, report_failures
    from vggablate.claims.budgets import BUDGETS, budget_label, claims_config, default_budget
    from vggablate.claims.paper import ACCURACY_CLAIM_IDS
    from vggablate.errors import UsageError
    from vggablate.run import drive as runner
    from vggablate.run import sweep

    if args.kernels_only:
        from bench.kernels_claim import kernels_only

        return kernels_only(args.kernels_only)
    if args.retry_errors and not args.resume:
        raise UsageError("--retry-errors reruns the failed trials of a run folder: give it with --resume DIR")
    if (args.max_epochs or args.max_minutes) and not args.until_stable:
        raise UsageError("--max-epochs and --max-minutes cap an --until-stable search: add --until-stable")
    if not args.resume:
        check_parent_folder(args.out)  # a file, or an existing run folder, refused before anything is made
    if args.until_stable or (args.resume and is_search_folder(args.resume)):
        return _until_stable(args)
    saved = sweep.load_resume(args.resume)[1] if args.resume else None
    if saved is not None and not saved.name.startswith("claims-"):
        raise UsageError(f"{args.resume} is not a claims run folder (its sweep is {saved.name!r})")
    default = saved.name.removeprefix("claims-") if saved else default_budget(torch.cuda.is_available(), args.data_dir)
    if not args.budget and default not in BUDGETS:  # a name edited by hand: say where, not KeyError
        raise UsageError(f"{Path(args.resume) / 'config.toml'}: name {saved.name!r} names no claims budget; "
                         f"choose from {', '.join('claims-' + b for b in BUDGETS)}")  # fmt: skip
    budget = BUDGETS[args.budget or default]
    if budget.device == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--budget {budget.name} needs a CUDA device and torch sees none; use --budget cpu")
    overrides = {"epochs": args.epochs, "seeds": args.seeds, "dataset": args.dataset, "data_dir": args.data_dir,
                 "widths": (args.width,) if args.width else None}  # fmt: skip
    if saved is not None:
        if args.claims is not None:
            raise UsageError("--claims cannot change a claims run folder's selection; start a new run")
        # More seeds run just the new trials; anything else would invalidate the trials done.
        grow = _changes(overrides)
        plan = (
            runner.plan_more_seeds(args.resume, overrides, args.retry_errors)
            if grow
            else runner.plan_resume(args.resume, retry_errors=args.retry_errors)
        )
    else:
        # `--claims ''` is an empty list, refused by choice_list: not "every claim".
        selected = choice_list(args.claims, ACCURACY_CLAIM_IDS, "claim") if args.claims is not None else None
        plan = runner.plan_new(claims_config(budget, overrides, selected), args.out)
    recipe = next((t.train for t in plan.trials if t.kind == "accuracy"), None)
    label = budget_label(plan.cfg, recipe)
    if not args.quiet:
        estimate = _estimate(plan, recipe)
        print(f"vggablate claims: budget {budget.name} ({budget.about}): {label}\n"
              f"  {len(plan.trials)} training runs, {len(plan.todo)} to run -> {plan.folder.path}\n"
              f"  expected duration: about {estimate / 60:.1f} min (from one timed vgg11 step on this machine)",
              file=sys.stderr, flush=True)  # fmt: skip
    start = time.perf_counter()
    if not runner.execute(plan, args.quiet, command="claims"):
        return 130
    if not args.quiet:
        print(f"  trained in {(time.perf_counter() - start) / 60:.1f} min", file=sys.stderr)
    status, _ = report_claims(plan.folder.path, label, args.quiet, plan.cfg.device if args.kernels else None)
    # The verdicts are written either way; failed training runs still make the command fail.
    status = status or report_failures(plan, "claims --resume {path} --retry-errors")
    if not status and not _judged(plan.folder.path):  # e.g. every net out of memory: no claim had data
        print(f"no accuracy claim was decided: none had top-1 on both sides; see {plan.folder.path / 'claims.md'}",
              file=sys.stderr)  # fmt: skip
        return 1
    return status


def _judged(run_dir) -> bool:
    """Say whether any accuracy claim had runs on both sides to judge (its verdict may be inconclusive)."""
    from vggablate.claims.budgets import top1_by_seed
    from vggablate.claims.paper import accuracy_claims
    from vggablate.run.records import read_rows

    journal = run_dir / JOURNAL
    return journal.is_file() and bool(accuracy_claims(top1_by_seed(read_rows(journal)), "")[0])


def _until_stable(args: argparse.Namespace) -> int:
    """Start or resume an --until-stable search (bench/claims_stable.py)."""
    import torch

    from bench.claims_stable import DEFAULT_MAX_MINUTES, EPOCH_CAP_FACTOR, Search, load_search, new_search, run_search
    from bench.common import choice_list
    from vggablate.claims.budgets import BUDGETS, default_budget
    from vggablate.claims.paper import ACCURACY_CLAIM_IDS
    from vggablate.errors import UsageError

    if args.resume:
        if not is_search_folder(args.resume):
            raise UsageError(f"{args.resume} is not an --until-stable folder (no stable.json); resume it without "
                             "--until-stable")  # fmt: skip
        given = [f for f in ("budget", "claims", "epochs", "seeds", "dataset", "width") if getattr(args, f)]
        if given:
            raise UsageError(f"--resume of an --until-stable folder keeps its settings; drop --{given[0]}")
        search = load_search(args.resume)
        caps = {k: v for k, v in (("max_epochs", args.max_epochs), ("max_minutes", args.max_minutes)) if v}
        return run_search(Path(args.resume), replace(search, **caps), args.quiet, args.retry_errors)
    budget = BUDGETS[args.budget or default_budget(torch.cuda.is_available(), args.data_dir)]
    selected = choice_list(args.claims, ACCURACY_CLAIM_IDS, "claim") if args.claims else None
    overrides = {"seeds": args.seeds, "dataset": args.dataset, "data_dir": args.data_dir,
                 "widths": (args.width,) if args.width else None}  # fmt: skip
    overrides = {k: v for k, v in overrides.items() if v is not None}
    start = args.epochs or budget.epochs
    if start is None:
        raise UsageError(f"--budget {budget.name} has no fixed epochs: give the starting budget with --epochs")
    search = Search(budget.name, selected, overrides, start, args.max_epochs or EPOCH_CAP_FACTOR * start,
                    args.max_minutes or DEFAULT_MAX_MINUTES)  # fmt: skip
    if search.max_epochs < start:
        raise UsageError(f"--max-epochs {search.max_epochs:g} is below the starting {start:g} epochs")
    return run_search(new_search(args.out, search), search, args.quiet)


def _changes(overrides: dict) -> bool:
    return any(v is not None for k, v in overrides.items() if k != "data_dir")


def _estimate(plan, recipe) -> float:
    from vggablate.claims.budgets import expected_seconds, time_one_step

    if recipe is None or not plan.todo:
        return 0.0
    from vggablate.data.catalog import get_dataset

    facts = get_dataset(plan.cfg.dataset).facts(plan.cfg.dataset)
    train_images, side = facts.train_images, facts.input_size
    if train_images is None:
        return float("nan")  # an image folder's size is unknown before it is read
    steps = recipe.steps or int(recipe.epochs * train_images / recipe.batch_size)
    return expected_seconds(plan.todo, time_one_step(recipe, side), steps)
