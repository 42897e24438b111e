"""``python -m bench train ARCH|CFG ...``: short training runs as a one-kind sweep, per-run table and multi-seed CIs.

The runs are `bench run`'s accuracy trials (planned by vggablate.run.sweep, driven by vggablate.run.drive):
a run folder with its journal, one isolated process per run, error rows, ``--resume``.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import (
    DATASETS_HELP,
    add_model_options,
    check_parent_folder,
    epochs_type,
    number_type,
    positive_float,
    positive_int,
    report_failures,
    seconds,
    seeds_type,
)
from vggablate.checks.numbers import MAX_SECONDS
from vggablate.errors import UsageError
from vggablate.schema import SCHEDULE_ALIASES, SCHEDULES

if TYPE_CHECKING:
    from vggablate.run.drive import Plan
    from vggablate.run.sweepconfig import SweepConfig
    from vggablate.training.recipe import TrainConfig

# The flags that plan a train run; --resume takes the plan from the run folder instead (bar --seeds: more).
PLAN_FLAGS = ("arch", "dataset", "epochs", "steps", "batch_size", "lr", "schedule", "target_top1", "width", "head",
              "batch_norm", "arch_file", "data_dir", "no_download", "timeout_s")  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the train command."""
    # conflict_handler="resolve": --width below replaces the shared option, whose default differs here.
    p = sub.add_parser(
        "train", help="train archs for a short budget; accuracy with multi-seed CIs", conflict_handler="resolve"
    )
    p.add_argument("arch", nargs="*", help="registered name(s), glob(s) or cfg string(s) (none with --resume)")
    p.add_argument("--dataset", help=DATASETS_HELP)
    p.add_argument("--epochs", type=epochs_type, help="budget in epochs (default per data set)")
    p.add_argument("--steps", type=positive_int, help="budget in optimizer steps (overrides --epochs)")
    p.add_argument("--seeds", type=seeds_type, help="runs per arch, seeds 0..N-1 (default 1; with --resume: more)")
    p.add_argument("--batch-size", type=positive_int, help="train batch size (default per data set)")
    p.add_argument("--lr", type=positive_float, help="peak learning rate (default per data set)")
    p.add_argument("--schedule", choices=(*SCHEDULES, *SCHEDULE_ALIASES), metavar="{" + ",".join(SCHEDULES) + "}",
                   help="learning-rate decay after the linear warm-up (default per data set; "
                   "onecycle: the old name of linear)")  # fmt: skip
    p.add_argument("--target-top1", type=number_type(maximum=100),
                   help="report the time to reach this test top-1 (percent)")  # fmt: skip
    p.add_argument("--device", default="auto", help="cpu | cuda | auto (default auto)")
    p.add_argument("--data-dir", help="where datasets are found first, and cached (default ~/.cache/vggablate)")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading a missing data set")
    p.add_argument("--out", default="results/runs",
                   help="parent of run folders: writes OUT/<timestamp>-train/ (default results/runs)")  # fmt: skip
    p.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted train run in its folder")
    p.add_argument("--retry-errors", action="store_true", help="with --resume, rerun crashed/timed-out runs")
    p.add_argument("--timeout", type=seconds, dest="timeout_s", help="seconds per training run (default: none)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_model_options(p)
    p.add_argument(
        "--width",
        type=positive_float,
        help="channel multiplier, applied to every net (default: on CPU, nets whose widest conv has 256+ "
        "channels train at 0.125 on clutter, digits and fashion-mnist and 0.25 on cifar10, cifar100 and "
        "synthetic; other nets, CUDA "
        "and image folders keep the arch's own width)",
    )
    p.set_defaults(func=main)


def train_sweep(args: argparse.Namespace) -> SweepConfig:
    """Return the one-kind sweep of `bench train`'s flags: accuracy trials, the recipe overridden."""
    from vggablate.data.catalog import default_dataset
    from vggablate.run.device import resolve_device
    from vggablate.run.sweepconfig import build_config

    device = resolve_device(args.device)
    # An explicit --width is the sweep's width: every net trains at it, however narrow (train_config).
    given = {"archs": tuple(args.arch), "metrics": ("accuracy",), "device": device, "seeds": args.seeds or 1,
             "dataset": args.dataset or default_dataset(device, args.data_dir), "epochs": args.epochs,
             "steps": args.steps, "train_batch_size": args.batch_size, "lr": args.lr, "schedule": args.schedule,
             "target_top1": args.target_top1, "widths": (args.width,) if args.width else None, "head": args.head,
             "batch_norm": args.batch_norm, "arch_files": tuple(args.arch_file), "data_dir": args.data_dir,
             "download": not args.no_download, "timeout_s": args.timeout_s or MAX_SECONDS, "name": "train"}  # fmt: skip
    return build_config([given])


def recipe_line(cfg: TrainConfig, device: str) -> str:
    """Describe the recipe as it runs on the device (CUDA-only settings are off elsewhere)."""
    from vggablate.training.recipe import effective_config

    fields = asdict(effective_config(cfg, device))
    narrow_from = fields.pop("narrow_from")
    parts = [f"{k}={v}" for k, v in fields.items() if v is not None]
    if narrow_from is not None and cfg.width is not None:
        parts = [f"{p} (nets with a {narrow_from}+ channel conv)" if p.startswith("width=") else p for p in parts]
    return "recipe: " + ", ".join(parts)


def main(args: argparse.Namespace) -> int:
    """Train each arch for each seed in isolated runs; print the runs and the per-arch statistics."""
    from vggablate.data.catalog import source_phrase
    from vggablate.run import drive

    if args.num_classes is not None:
        raise UsageError("--num-classes is set by the data set when training; leave it out")
    if args.retry_errors and not args.resume:
        raise UsageError("--retry-errors reruns the failed runs of a run folder: give it with --resume RUN_DIR")
    source = ""
    if args.resume:
        plan = _resume_plan(args)
    else:
        if not args.arch:
            raise UsageError("no archs given: name them (`python -m bench train vgg11 vgg13`), or --resume RUN_DIR")
        check_parent_folder(args.out)  # before any work: a file, or an existing run folder, is refused
        cfg = train_sweep(args)
        source = source_phrase(cfg.dataset, cfg.data_dir, cfg.download)  # before the plan decompresses it
        plan = drive.plan_new(cfg, args.out, drive.resolve_trials(cfg))  # every check before the folder is made
    _print_header(plan, source)
    if not drive.execute(plan, args.no_progress, command="train"):
        return 130
    print_results(plan.folder.path)
    return report_failures(plan, "train --resume {path} --retry-errors")


def _resume_plan(args: argparse.Namespace) -> Plan:
    from vggablate.run import drive, sweep

    given = [f for f in PLAN_FLAGS if getattr(args, f) not in (None, False, [])]
    if given or args.device != "auto":
        first = (given or ["device"])[0]
        flag = {"arch": "the archs", "timeout_s": "--timeout"}.get(first, "--" + first.replace("_", "-"))
        raise UsageError(f"--resume finishes a train run as it was planned: leave out {flag} (--seeds N adds seeds)")
    if sweep.load_resume(args.resume)[1].name != "train":
        raise UsageError(f"{args.resume} is not a `bench train` folder; resume it with the command that made it")
    if args.seeds:
        return drive.plan_more_seeds(args.resume, {"seeds": args.seeds}, args.retry_errors)
    return drive.plan_resume(args.resume, retry_errors=args.retry_errors)


def _print_header(plan: Plan, source: str) -> None:
    from vggablate.training.recipe import departures

    trials = [t for t in plan.trials if t.kind == "accuracy"]
    first, where = trials[0], f"; {source}" if source else ""
    print(f"{first.dataset} on {first.device}: input {first.input_size}x{first.input_size}{where}")
    print(recipe_line(first.train, first.device))
    for t in {t.spec.name: t for t in trials}.values():
        print(f"{t.spec.name}: {t.spec.cfg_str}; differs from standard: "
              f"{'; '.join(departures(t.spec, t.input_size)) or 'nothing'}")  # fmt: skip
    print(f"{len(trials)} training runs, {len(plan.todo)} to run -> {plan.folder.path}", flush=True)


def print_results(run_dir: Path) -> None:
    """Build the run's reports; print the per-run table, the per-arch top-1 CIs and any failed runs."""
    from vggablate.checks.outputs import JOURNAL
    from vggablate.report.build import build_reports_and_tables
    from vggablate.report.summary import markdown_table
    from vggablate.report.tables import report_frame, training_runs_table
    from vggablate.run.records import latest_attempts, read_rows, to_frame

    tables = build_reports_and_tables(run_dir)[1]
    runs = training_runs_table(report_frame(to_frame(latest_attempts(read_rows(run_dir / JOURNAL)))))
    if not runs.empty:
        print(markdown_table(runs))
    for table in (t for t in tables if t.title in ("Accuracy", "Errors")):
        print(f"\n{table.title}\n{markdown_table(table.frame)}" + (f"\n{table.note}" if table.note else ""))
    print(f"rows: {run_dir / JOURNAL}\nreport: {run_dir / 'report.html'}")
