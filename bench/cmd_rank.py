"""``python -m bench rank SHORT_RUN LONG_RUN``: do two budgets rank the archs alike? (Kendall's tau, CI over seeds)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vggablate.checks.outputs import JOURNAL


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the rank command."""
    p = sub.add_parser("rank", help="Kendall's tau between two runs' arch rankings by top-1 (e.g. short vs long "
                       "claims budgets), with a bootstrap CI over seeds")  # fmt: skip
    p.add_argument("short", metavar="SHORT_RUN", help="run folder of the shorter budget (a comma list: their rows "
                   "together, e.g. one claims run per claim)")  # fmt: skip
    p.add_argument("long", metavar="LONG_RUN", help="run folder(s) of the longer budget (e.g. claims --epochs 2-3x)")
    p.add_argument("--out", help="also write the result as markdown to this file")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Rank the archs of both runs by mean top-1 and print Kendall's tau with its CI."""
    from vggablate.claims.budgets import top1_by_arch
    from vggablate.claims.ranking import agreement_text, rank_agreement
    from vggablate.errors import UsageError
    from vggablate.report.build import check_run_dir
    from vggablate.run.records import atomic_write_text, read_rows

    if args.out:
        from bench.common import check_output_file

        check_output_file(args.out, "--out", inputs=[d for arg in (args.short, args.long) for d in arg.split(",") if d])
    sides = [[check_run_dir(d) for d in arg.split(",") if d] for arg in (args.short, args.long)]
    top1 = [_top1(runs, top1_by_arch, read_rows) for runs in sides]
    try:
        result = rank_agreement(*top1)
    except ValueError as exc:
        raise UsageError(f"{args.short} and {args.long}: {exc}; give two runs of the same archs") from None
    labels = [", ".join(f"{d.name} ({_epochs(d)})" for d in runs) for runs in sides]
    text = agreement_text(result, *labels)
    print(text, end="")
    if args.out:
        atomic_write_text(Path(args.out), text)
    return 0


def _top1(runs: list[Path], top1_by_arch, read_rows) -> dict[str, list[float]]:
    # Several folders of one budget: an arch in more than one (e.g. vgg13 in two claims runs) counts once.
    merged: dict[str, list[float]] = {}
    for d in runs:
        for arch, values in top1_by_arch(read_rows(d / JOURNAL)).items():
            merged.setdefault(arch, values)
    return merged


def _epochs(run_dir: Path) -> str:
    from vggablate.run.records import read_rows

    epochs = sorted({r.get("epochs") for r in read_rows(run_dir / JOURNAL) if r.get("kind") == "accuracy"} - {None})
    return ", ".join(f"{e:g} epochs" for e in epochs) or "no accuracy rows"
