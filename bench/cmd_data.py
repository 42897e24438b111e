"""``python -m bench data show NAME``: describe a built-in data set and write a sample grid of it."""

from __future__ import annotations

import argparse
import sys
import time


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the data command."""
    p = sub.add_parser("data", help="show a generated data set (clutter): sizes and a sample grid PNG")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(p))
    show = dsub.add_parser("show", help="write a 4x8 sample grid of a data set and print its sizes")
    show.add_argument("name", help="clutter or clutter:canvas=64,patches=8 (keys: canvas, digit, patches, patch, "
                      "placements, test_placements)")  # fmt: skip
    show.add_argument("--out", default="clutter_samples.png", help="PNG to write (default clutter_samples.png)")
    show.add_argument("--split", choices=("train", "test"), default="train", help="which split to draw")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Build the data set, print its sizes and class counts, and write the sample grid."""
    from vggablate.errors import UsageError

    if getattr(args, "data_command", None) != "show":
        raise UsageError("data needs an action: python -m bench data show clutter")
    from bench.common import check_output_file
    from vggablate.clutter import is_clutter, make_clutter, parse_clutter

    if not is_clutter(args.name):
        raise UsageError(f"data show draws generated data sets: {args.name!r} is not one; use clutter[:key=value,...]")
    params = parse_clutter(args.name)
    out = check_output_file(args.out)  # a folder, a path below a file: one line before the data is built
    start = time.perf_counter()
    train, test = make_clutter(params)
    built = time.perf_counter() - start
    from vggablate.records import atomic_write_bytes
    from vggablate.report.samples import clutter_grid_bytes

    png, _ = clutter_grid_bytes(params.name, args.split)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create folder {str(out.parent)!r}: {exc.strerror}") from None
    atomic_write_bytes(out, png)
    side = params.canvas
    print(f"{params.name}: train {len(train.y)} and test {len(test.y)} images, 1x{side}x{side} uint8, "
          f"10 classes, built in {built:.1f} s", file=sys.stderr)  # fmt: skip
    print(out)
    return 0
