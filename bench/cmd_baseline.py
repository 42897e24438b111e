"""``python -m bench baseline save RUN_DIR --to FILE.json``: keep a run's gated figures as a baseline."""

from __future__ import annotations

import argparse
import sys

from bench.common import OneLineParser


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the baseline command and its actions."""
    p = sub.add_parser("baseline", help="save the gated figures of a run as a baseline file")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=OneLineParser, required=True)
    save = actions.add_parser("save", help="params, MACs, peak memory and latency samples of a run folder")
    save.add_argument("run_dir", metavar="RUN_DIR", help="a `bench run` folder (or its rows.jsonl)")
    save.add_argument("--to", required=True, metavar="FILE.json", help="e.g. results/baselines/main.json")
    save.set_defaults(func=main_save)
    det = actions.add_parser("deterministic", help="recompute the machine-independent figures the CI gates")
    det.add_argument("--to", default="results/baselines/ci.json", metavar="FILE.json")
    det.set_defaults(func=main_deterministic)


def main_save(args: argparse.Namespace) -> int:
    """Read the run folder, keep the gated figures, write the baseline atomically."""
    from bench.common import check_output_file
    from vggablate.errors import UsageError
    from vggablate.regress import load, save

    check_output_file(args.to, "--to", inputs=(args.run_dir,))  # before the run is read
    baseline = load(args.run_dir)
    if not baseline.entries:
        raise UsageError(f"{args.run_dir}: no counts, memory or latency rows to keep")
    errors = [label for label, e in baseline.entries.items() if e.error]
    if errors:
        print(f"warning: {len(errors)} setting(s) errored and are kept as errors: {', '.join(errors[:3])}",
              file=sys.stderr)  # fmt: skip
    path = save(baseline, args.to)
    print(f"baseline: {len(baseline.entries)} setting(s) from {baseline.source} -> {path}")
    return 0


def main_deterministic(args: argparse.Namespace) -> int:
    """Recompute params, MACs and analytic memory and write them as the CI baseline."""
    from bench.common import check_output_file
    from vggablate.regress import save
    from vggablate.regress.deterministic import deterministic_baseline

    check_output_file(args.to, "--to")
    baseline = deterministic_baseline()
    path = save(baseline, args.to)
    print(f"baseline: {len(baseline.entries)} deterministic setting(s) -> {path}")
    return 0
