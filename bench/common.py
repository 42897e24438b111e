"""Shared CLI pieces: a parser whose errors are one line, and value parsers."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from vggablate.errors import UsageError


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2, without the usage block."""

    def error(self, message: str) -> NoReturn:
        """Print a one-line error with a pointer to --help and exit 2."""
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(2)


def fail(message: str) -> int:
    """Print a one-line error and return exit code 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def int_list(text: str, what: str = "value", minimum: int = 1) -> tuple[int, ...]:
    """Parse '1,8,32' into integers >= minimum."""
    try:
        values = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise UsageError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < minimum:
        raise UsageError(f"every {what} must be >= {minimum}, got {text!r}")
    return values


def choice_list(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Parse 'a,b' into names that must each be one of ``allowed``."""
    values = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise UsageError(f"unknown {what} {', '.join(bad) or repr(text)}; choose from {', '.join(allowed)}")
    return values


def positive_float(text: str) -> float:
    """Parse a float > 0 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """Parse an int >= 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Add the spec options shared by every command that builds a model."""
    parser.add_argument("--width", type=positive_float, help="channel multiplier (default 1)")
    parser.add_argument("--head", choices=("imagenet", "gap"), help="classifier head")
    parser.add_argument("--num-classes", type=positive_int, help="output classes")
    parser.add_argument(
        "--batch-norm", action=argparse.BooleanOptionalAction, default=None, help="BatchNorm after each conv"
    )
    parser.add_argument(
        "--arch-file",
        action="append",
        default=[],
        metavar="FILE.toml",
        help="register the named archs of a TOML file (repeatable)",
    )


def model_options(args: argparse.Namespace) -> dict:
    """Collect the spec options given on the command line (None = the arch's own)."""
    return {"width": args.width, "head": args.head, "num_classes": args.num_classes, "batch_norm": args.batch_norm}


def load_arch_files(args: argparse.Namespace) -> None:
    """Register the archs of every --arch-file given."""
    from vggablate.archfile import load_arch_file

    for path in args.arch_file:
        load_arch_file(path)
