"""``python -m bench data show NAME``: describe a data set and write a sample grid of it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the data command."""
    p = sub.add_parser("data", help="show a data set (clutter, fashion-mnist): sizes and a sample grid PNG")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(p))
    show = dsub.add_parser("show", help="write a 4x8 sample grid of a data set and print its sizes")
    show.add_argument("name", help="clutter, clutter:canvas=64,patches=8 (keys: canvas, digit, patches, patch, "
                      "placements, test_placements) or fashion-mnist")  # fmt: skip
    show.add_argument("--out", help="PNG to write (default NAME_samples.png, e.g. clutter_samples.png)")
    show.add_argument("--split", choices=("train", "test"), default="train", help="which split to draw")
    show.add_argument("--data-dir", help="where fashion-mnist is looked for first (then the cache, the system)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Print the data set's sizes and where it is, and write the sample grid."""
    from vggablate.data.catalog import ENTRIES, check_dataset
    from vggablate.errors import UsageError

    if getattr(args, "data_command", None) != "show":
        raise UsageError("data needs an action: python -m bench data show clutter")
    from bench.common import check_output_file
    from vggablate.data.catalog import LoadOptions

    entry = check_dataset(args.name)
    if entry.samples is None:
        drawable = " or ".join(e.usage for e in ENTRIES if e.samples is not None)
        raise UsageError(f"data show draws {drawable}: {args.name!r} has no sample reader")
    source = entry.locate(args.name, args.data_dir)
    if source is None:
        raise UsageError(f"{args.name} is not here; `python -m bench run --dataset {args.name}` says how to get it")
    # A folder, a path below a file: one line before the data is built.
    out = check_output_file(Path(args.out or f"{entry.name}_samples.png"))
    entry.prepare(args.name, LoadOptions(args.data_dir, False))  # a clutter set too large for memory: refused here
    from vggablate.report.plots import render
    from vggablate.report.samples import dataset_samples, sample_figure
    from vggablate.run.records import atomic_write_bytes

    start = time.perf_counter()
    samples = dataset_samples(args.name, args.split, data_dir=args.data_dir)
    if samples is None:
        raise UsageError(f"cannot read the first images of {args.name} in {source.where}")
    built = time.perf_counter() - start
    png, _ = render(sample_figure(samples, args.split))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create folder {str(out.parent)!r}: {exc.strerror}") from None
    atomic_write_bytes(out, png)
    facts, where = entry.facts(args.name), f"built in {built:.1f} s" if source.generated else f"from {source.where}"
    side = facts.input_size
    print(f"{entry.parse(args.name)}: train {facts.train_images} and test {facts.test_images} images, "
          f"{facts.channels}x{side}x{side} uint8, {facts.classes} classes, {where}", file=sys.stderr)  # fmt: skip
    print(out)
    return 0
