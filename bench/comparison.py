"""The latency rule's flags and the printed comparison, shared by ``bench compare`` and ``bench ab``."""

from __future__ import annotations

import argparse
import sys

from bench.common import number_type, positive_float


def add_rule_options(p: argparse.ArgumentParser) -> None:
    """Add the latency rule's options: --min-effect, --quantile, --level, --resamples, --seed."""
    p.add_argument("--min-effect", type=positive_float, default=10.0, metavar="PCT",
                   help="smallest latency change (percent) that can fail (default 10)")  # fmt: skip
    p.add_argument("--quantile", type=number_type(maximum=1), default=0.10,
                   help="latency quantile compared (default 0.10, robust to busy runners; 0.5: medians)")  # fmt: skip
    p.add_argument(
        "--level",
        type=number_type(minimum=0.5, exclusive_min=False, maximum=1),
        default=0.95,
        help="confidence level of the latency CI (default 0.95)",
    )
    p.add_argument("--resamples", type=number_type(integer=True, minimum=1, exclusive_min=False, maximum=10**7),
                   default=2000, help="bootstrap resamples (default 2000)")  # fmt: skip
    p.add_argument("--seed", type=number_type(integer=True, minimum=0, exclusive_min=False, maximum=2**32 - 1),
                   default=0, help="bootstrap seed (default 0)")  # fmt: skip


def latency_rule(args: argparse.Namespace):
    """Build the LatencyRule from the command line."""
    from vggablate.errors import UsageError
    from vggablate.regress import LatencyRule

    if not 0.5 <= args.level < 1:
        raise UsageError(f"--level must be in [0.5, 1), got {args.level}")
    if not 0 < args.quantile < 1:
        raise UsageError(f"--quantile must be in (0, 1), got {args.quantile}")
    return LatencyRule(min_effect=args.min_effect / 100, quantile=args.quantile, level=args.level,
                       resamples=args.resamples, seed=args.seed)  # fmt: skip


def print_comparison(comparison, old_name: str, new_name: str, out: str | None) -> int:
    """Print the table (and write it to out); return 1 on a regression, else 0."""
    from vggablate.regress import to_markdown
    from vggablate.run.records import atomic_write_text

    for warning in comparison.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if comparison.kernels:
        print(f"note: {comparison.kernels}", file=sys.stderr)
    text = to_markdown(comparison, old_name, new_name)
    print(text, end="")
    if out:
        atomic_write_text(out, text)
    return 1 if comparison.regressed else 0
