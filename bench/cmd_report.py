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
    from pathlib import Path

    from vggablate.report import build_reports

    # A torn last line or a damaged row is recoverable: say so in one line instead of a Python warning block.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sections = _claims_sections(Path(args.run_dir))
        paths = build_reports(args.run_dir, sections)
    # A claims run reads its journal twice (claims, then reports): say each thing once.
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"warning: {message}", file=sys.stderr)
    for path in paths:
        print(path)
    return 0


def _claims_sections(run_dir) -> tuple:
    # A claims run (it has claims.md) gets its claims re-judged from the journal as well.
    if not (run_dir / "claims.md").is_file() or not (run_dir / "config.toml").is_file():
        return ()
    from vggablate.claims.budgets import budget_label, write_claims
    from vggablate.run import sweep

    cfg = sweep.load_resume(run_dir)[1]
    section, _, _ = write_claims(run_dir, budget_label(cfg, sweep.train_config(cfg)))
    return (section,)
