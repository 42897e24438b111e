"""``python -m bench train ARCH|CFG ...``: short training runs, per-run table and multi-seed CIs."""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

from bench.common import (
    DATASETS_HELP,
    add_model_options,
    check_parent_folder,
    epochs_type,
    load_arch_files,
    number_type,
    positive_float,
    positive_int,
    seeds_type,
)
from vggablate.checks.outputs import JOURNAL
from vggablate.errors import UsageError
from vggablate.run.schema import SCHEDULE_ALIASES, SCHEDULES
from vggablate.words import plural

if TYPE_CHECKING:
    from vggablate.training.recipe import TrainConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the train command."""
    # conflict_handler="resolve": --width below replaces the shared option, whose default differs here.
    p = sub.add_parser(
        "train", help="train archs for a short budget; accuracy with multi-seed CIs", conflict_handler="resolve"
    )
    p.add_argument("arch", nargs="+", help="registered name(s) or cfg string(s)")
    p.add_argument("--dataset", help=DATASETS_HELP)
    p.add_argument("--epochs", type=epochs_type, help="budget in epochs (default per data set)")
    p.add_argument("--steps", type=positive_int, help="budget in optimizer steps (overrides --epochs)")
    p.add_argument("--seeds", type=seeds_type, default=1, help="runs per arch, seeds 0..N-1 (default 1)")
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


def _config(args: argparse.Namespace, dataset: str, device: str) -> TrainConfig:
    from vggablate.training.recipe import default_train_config

    cfg = default_train_config(dataset, device)
    given = {
        "epochs": args.epochs,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "schedule": args.schedule,
        "target_top1": args.target_top1,
        "width": args.width,
        "head": args.head,
    }
    if args.width is not None:  # an explicit width applies to every net, however narrow
        cfg = replace(cfg, narrow_from=None)
    return replace(cfg, **{k: v for k, v in given.items() if v is not None})


def recipe_line(cfg: TrainConfig, device: str) -> str:
    """Describe the recipe as it runs on the device (CUDA-only settings are off elsewhere)."""
    from vggablate.training.recipe import effective_config

    fields = asdict(effective_config(cfg, device))
    narrow_from = fields.pop("narrow_from")
    parts = [f"{k}={v}" for k, v in fields.items() if v is not None]
    if narrow_from is not None and cfg.width is not None:
        parts = [f"{p} (nets with a {narrow_from}+ channel conv)" if p.startswith("width=") else p for p in parts]
    return "recipe: " + ", ".join(parts)


def _run_table(rows: list[dict]):
    import pandas as pd

    from vggablate.report.fmt import fmt_as

    return pd.DataFrame(
        {
            "arch": r["arch"],
            "seed": r["seed"],
            "top1 %": fmt_as(r["top1"], ".2f"),
            "top5 %": fmt_as(r["top5"], ".2f"),
            "train loss": fmt_as(r["train_loss"], ".3f"),
            "epochs": fmt_as(r["epochs"], ".3g"),
            "train s": fmt_as(r["train_time_s"], ".1f"),
            "img/s": fmt_as(r["train_ips"], ".0f"),
            "to target s": fmt_as(r["time_to_target_s"], ".1f"),
        }
        for r in rows
    )


def summary_table(rows: list[dict]):
    """Return per-arch top-1 mean, std and 95% Student-t CI over seeds."""
    import pandas as pd

    from vggablate.stats import mean_ci

    out = []
    for arch in dict.fromkeys(r["arch"] for r in rows):
        ci = mean_ci([r["top1"] for r in rows if r["arch"] == arch])
        out.append(
            {
                "arch": arch,
                "n": ci.n,
                "top1 mean %": f"{ci.mean:.2f}",
                "std": "-" if ci.n < 2 else f"{ci.std:.2f}",  # one seed has no spread to show
                "95% CI": "-" if ci.n < 2 else f"[{ci.lo:.2f}, {ci.hi:.2f}]",
            }
        )
    return pd.DataFrame(out)


def main(args: argparse.Namespace) -> int:
    """Train each arch for each seed; print the runs and the per-arch statistics; write rows.jsonl."""
    from vggablate import resolve_spec
    from vggablate.checks.memory import check_training_fits
    from vggablate.data import load_dataset
    from vggablate.data.catalog import default_dataset, source_phrase
    from vggablate.measure.env import collect_env
    from vggablate.run.device import resolve_device
    from vggablate.run.records import Journal
    from vggablate.run.sweep import new_run_folder
    from vggablate.run.timestamps import utc_timestamp
    from vggablate.run.trial import Trial, identity
    from vggablate.training.trainer import departures, prepare_spec, run_row

    check_parent_folder(args.out)  # before any work: a file, or an existing run folder, is refused
    load_arch_files(args)
    if args.num_classes is not None:
        raise UsageError("--num-classes is set by the data set when training; leave it out")
    device = resolve_device(args.device)
    dataset = args.dataset or default_dataset(device, args.data_dir)
    cfg = _config(args, dataset, device)
    specs = [resolve_spec(a, batch_norm=args.batch_norm) for a in args.arch]
    source = source_phrase(dataset, args.data_dir, not args.no_download)  # before loading decompresses it
    data = load_dataset(dataset, args.data_dir, download=not args.no_download, device=device)
    fitted = [prepare_spec(spec, data, cfg) for spec in specs]
    for spec in fitted:  # refused from the shapes, before the folder is made or a tensor allocated
        check_training_fits(spec, data.input_size, cfg, device)
    out = new_run_folder(args.out, "train").path  # a fresh <stamp>-train folder, as `bench run` makes
    images = plural(data.num_train, "train image")
    where = f"; {source}" if source else ""
    print(f"{dataset} on {device}: {images}, input {data.input_size}x{data.input_size}{where}")
    print(recipe_line(cfg, device))
    env, rows, journal = collect_env(device), [], Journal(out / JOURNAL)
    for spec, fit in zip(specs, fitted):
        print(
            f"{fit.name}: {fit.cfg_str}; differs from standard: "
            f"{'; '.join(departures(fit, data.input_size)) or 'nothing'}"
        )
        for seed in range(args.seeds):
            # The Trial `bench run` makes of this training run: the same trial id and the same columns
            # (run.trial.identity, then the settings as trained), so the rows can be compared.
            trial = Trial(spec, kind="accuracy", device=device, seed=seed, dataset=dataset, train=cfg, mode="train")
            stamp = utc_timestamp()
            row = run_row(spec, data, cfg, device, seed, progress=not args.no_progress)
            row = {**identity(trial, stamp, row["duration_s"]), **env, **row}
            journal.append(row)  # one fsync'ed line per run: finished runs survive an interrupt
            rows.append(row)
            print(f"  seed {seed}: top-1 {row['top1']:.2f}% in {row['train_time_s']:.1f} s", flush=True)
    print(_run_table(rows).to_string(index=False))
    print(summary_table(rows).to_string(index=False))
    print(f"rows: {journal.path}")
    return 0
