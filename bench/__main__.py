"""Entry point: ``python -m bench COMMAND ...``; the only place where strings become objects."""

from __future__ import annotations

import importlib
import importlib.util
import sys

from bench.common import OneLineParser, fail
from vggablate.errors import UsageError

# Each command lives in bench/cmd_<name>.py with add_parser(subparsers) and main(args) -> int.
COMMANDS = (
    "list",
    "show",
    "measure",
    "profile",
    "train",
    "eval",
    "run",
    "report",
    "claims",
    "baseline",
    "compare",
    "ab",
    "gpu-check",
    "data",
    "rank",
)


def _modules() -> list:
    names = [f"bench.cmd_{c.replace('-', '_')}" for c in COMMANDS]
    return [importlib.import_module(n) for n in names if importlib.util.find_spec(n) is not None]


def build_parser() -> OneLineParser:
    """Build the argument parser with every available subcommand."""
    parser = OneLineParser(prog="python -m bench", description="Benchmark and ablate VGG-family CNNs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for module in _modules():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; user errors exit 2 with one line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
