"""``python -m bench claims``: put the VGG paper's claims to measured tests, with computed verdicts."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.common import positive_float, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the claims command."""
    p = sub.add_parser("claims", help="reproduce the VGG paper's claims (claims.md, plots, report section)")
    p.add_argument("--budget", choices=("smoke", "cpu", "cifar"), help="smoke: CPU+digits, a demo in minutes; "
                   "cpu: CPU+cluttered digits, 16 epochs x 6 seeds, about 40 min, depth and 3x3 vs 5x5 (default "
                   "without a GPU); cifar: GPU+CIFAR-10 (default with one)")  # fmt: skip
    p.add_argument("--claims", help="comma list of accuracy claims to run: shallow_5x5, depth, lrn, one_by_one "
                   "(default: all, except --budget cpu: shallow_5x5,depth; the cost and static claims are always "
                   "judged)")  # fmt: skip
    p.add_argument("--epochs", type=positive_float, help="override the budget's epochs")
    p.add_argument("--seeds", type=positive_int, help="override the budget's seeds per arch (with --resume: "
                   "add seeds up to N)")  # fmt: skip
    p.add_argument("--dataset", help="override the budget's data set")
    p.add_argument("--width", type=positive_float, help="train every arch at this width")
    p.add_argument("--data-dir", help="where datasets are cached or found")
    p.add_argument("--out", default="results/runs", help="parent folder of run folders (default results/runs)")
    p.add_argument("--resume", metavar="RUN_DIR", help="reuse a claims run folder: only missing trials run "
                   "(add seeds later: --resume DIR --seeds N)")  # fmt: skip
    p.add_argument("--retry-errors", action="store_true", help="with --resume: also rerun trials that failed")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--kernels", action="store_true", help="also time the beyond-the-paper claim on the budget's "
                   "device: 3x3 convs cheaper per MAC than 5x5/7x7 (about a minute)")  # fmt: skip
    p.add_argument("--kernels-only", metavar="DEVICE", choices=("cpu", "cuda"),
                   help="time only that claim on DEVICE, print its verdicts and exit (no training)")  # fmt: skip
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the claims' sweep (or resume it), then judge every claim and write the outputs."""
    import torch

    from bench.cmd_run import report_failures
    from bench.common import choice_list
    from vggablate import runner, sweep
    from vggablate.claims import ACCURACY_CLAIM_IDS
    from vggablate.claims_run import BUDGETS, budget_label, claims_config
    from vggablate.errors import UsageError

    if args.kernels_only:
        from bench.kernels_claim import kernels_only

        return kernels_only(args.kernels_only)
    if args.retry_errors and not args.resume:
        raise UsageError("--retry-errors reruns the failed trials of a run folder: give it with --resume DIR")
    saved = sweep.load_resume(args.resume)[1] if args.resume else None
    if saved is not None and not saved.name.startswith("claims-"):
        raise UsageError(f"{args.resume} is not a claims run folder (its sweep is {saved.name!r})")
    default = saved.name.removeprefix("claims-") if saved else ("cifar" if torch.cuda.is_available() else "cpu")
    if not args.budget and default not in BUDGETS:  # a name edited by hand: say where, not KeyError
        raise UsageError(f"{Path(args.resume) / 'config.toml'}: name {saved.name!r} names no claims budget; "
                         f"choose from {', '.join('claims-' + b for b in BUDGETS)}")  # fmt: skip
    budget = BUDGETS[args.budget or default]
    if budget.device == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--budget {budget.name} needs a CUDA device and torch sees none; use --budget cpu")
    overrides = {"epochs": args.epochs, "seeds": args.seeds, "dataset": args.dataset, "data_dir": args.data_dir,
                 "widths": (args.width,) if args.width else None}  # fmt: skip
    if saved is not None:
        if args.claims:
            raise UsageError("--claims cannot change a claims run folder's selection; start a new run")
        # More seeds run just the new trials; anything else would invalidate the trials done.
        grow = _changes(overrides)
        plan = (
            runner.plan_more_seeds(args.resume, overrides, args.retry_errors)
            if grow
            else runner.plan_resume(args.resume, retry_errors=args.retry_errors)
        )
    else:
        selected = choice_list(args.claims, ACCURACY_CLAIM_IDS, "claim") if args.claims else None
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
    status = report_claims(plan.folder.path, label, args.quiet, plan.cfg.device if args.kernels else None)
    # The verdicts are written either way; failed training runs still make the command fail.
    return status or report_failures(plan, "claims --resume {path} --retry-errors")


def report_claims(run_dir, label: str, quiet: bool, kernels_device: str | None = None) -> int:
    """Write claims.md and the claim plots, then the run's reports with the claims section."""
    from bench.cmd_run import finish
    from vggablate.claims import ACCURACY_CLAIM_IDS
    from vggablate.claims_run import write_claims

    extra = []
    if kernels_device is not None:  # the beyond-the-paper claim, timed here (vggablate/claims_kernels.py)
        from vggablate.claims_kernels import default_config, judge_kernel_claim

        extra = judge_kernel_claim(default_config(kernels_device))
    section, rows = write_claims(run_dir, label, extra)
    if not quiet:
        for r in rows:
            if r.claim != "static":
                print(f"  {r.verdict:>28}  {r.title}", file=sys.stderr)
            if r.claim in ACCURACY_CLAIM_IDS:  # the effect, its CI and the seeds per side; what would resolve it
                print(f"{'':32}{r.measured}" + (f"\n{'':32}{r.note}" if r.verdict != "holds" else ""), file=sys.stderr)
    print(f"claims: {run_dir / 'claims.md'}")
    return finish(run_dir, quiet=True, sections=(section,))


# Train-split sizes, for the estimate: digits' fixed 80% split of 1,797; CIFAR's 50,000; synthetic's 2,048.
TRAIN_IMAGES = {"digits": 1437, "cifar10": 50000, "cifar100": 50000, "synthetic": 2048}


def _changes(overrides: dict) -> bool:
    return any(v is not None for k, v in overrides.items() if k != "data_dir")


def _estimate(plan, recipe) -> float:
    from vggablate.claims_run import expected_seconds, time_one_step

    if recipe is None or not plan.todo:
        return 0.0
    from vggablate.clutter import is_clutter, parse_clutter

    train_images, side = TRAIN_IMAGES.get(plan.cfg.dataset), 32
    if is_clutter(plan.cfg.dataset):  # every train digit, placements times, on the canvas
        params = parse_clutter(plan.cfg.dataset)
        train_images, side = TRAIN_IMAGES["digits"] * params.placements, params.canvas
    if train_images is None:
        return float("nan")  # an image folder's size is unknown before it is read
    steps = recipe.steps or int(recipe.epochs * train_images / recipe.batch_size)
    return expected_seconds(plan.todo, time_one_step(recipe, side), steps)
