"""``python -m bench compare BASELINE CURRENT``: a markdown table of every gated metric; exit 1 on a regression."""

from __future__ import annotations

import argparse

from bench.common import check_output_file, positive_float
from bench.comparison import add_rule_options, latency_rule, print_comparison


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the compare command."""
    p = sub.add_parser("compare", help="compare a run or baseline with a baseline; exit 1 on a regression")
    p.add_argument("baseline", metavar="BASELINE", help="a baseline .json or a run folder")
    p.add_argument("current", metavar="CURRENT", help="a baseline .json or a run folder")
    add_rule_options(p)
    p.add_argument("--allow-count-change", action="store_true", help="report params/MACs changes, do not fail")
    p.add_argument("--mem-threshold", type=positive_float, default=5.0, metavar="PCT",
                   help="memory growth (percent) that fails (default 5; CPU resident set: 20 and 2 MiB)")  # fmt: skip
    p.add_argument("--mem-threshold-for", action="append", default=[], metavar="METRIC=PCT",
                   help="per-metric override, e.g. mem_rss_peak_mb=20 (repeatable)")  # fmt: skip
    p.add_argument("--force", action="store_true", help="compare latency even across different machines")
    p.add_argument("--out", metavar="FILE.md", help="also write the table to this file")
    p.set_defaults(func=main)


def _thresholds(items: list[str]) -> tuple[tuple[str, float], ...]:
    from vggablate.checks.numbers import parse_float
    from vggablate.errors import UsageError
    from vggablate.regress.baseline import MEMORY_METRICS

    out: dict[str, float] = {}
    for item in items:
        metric, _, pct = item.partition("=")
        if metric not in MEMORY_METRICS:
            raise UsageError(f"--mem-threshold-for: unknown metric {metric!r}; choose from {', '.join(MEMORY_METRICS)}")
        try:
            value = parse_float(pct)
        except ValueError:
            raise UsageError(f"--mem-threshold-for needs METRIC=PCT with a finite PCT, got {item!r}") from None
        if value <= 0:
            raise UsageError(f"--mem-threshold-for: PCT must be > 0, got {item!r}")
        out[metric] = value / 100
    return tuple(out.items())


def main(args: argparse.Namespace) -> int:
    """Load both sides, compare, print the table; exit 1 on a regression, 2 on unusable input."""
    from vggablate.regress import CompareConfig, compare, load

    if args.out:  # a folder, a path below a file, one of the two inputs: refused before they are read
        check_output_file(args.out, "--out", inputs=(args.baseline, args.current))
    cfg = CompareConfig(
        allow_count_change=args.allow_count_change,
        mem_threshold=args.mem_threshold / 100,
        mem_thresholds=_thresholds(args.mem_threshold_for),
        latency=latency_rule(args),
        force=args.force,
    )
    old, new = load(args.baseline), load(args.current)
    return print_comparison(compare(old, new, cfg), args.baseline, args.current, args.out)
