"""``python -m bench report RUN_DIR``: rebuild a run folder's tables, plots and HTML from rows.jsonl."""

from __future__ import annotations

import argparse
import sys
import warnings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the report command."""
    p = sub.add_parser("report", help="rebuild summary.md, report.html, plots/ and rows.csv/.parquet of a run")
    p.add_argument("run_dir", metavar="RUN_DIR", help="run folder holding rows.jsonl, e.g. results/runs/<ts>-<name>")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Rebuild every derived file and print its path, one per line."""
    from vggablate.report import build_reports

    # A torn last journal line is recoverable: say so in one line instead of a Python warning block.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = build_reports(args.run_dir)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    for path in paths:
        print(path)
    return 0
