"""Entry point: ``python -m bench COMMAND ...``; the only place where strings become objects."""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.util
import sys
import warnings
from collections.abc import Iterator

from bench.common import OneLineParser, fail
from vggablate.errors import RunError, UsageError

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


# A full disk or quota is not a bug in vggablate: one line instead of a traceback, wherever it strikes.
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


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


@contextlib.contextmanager
def _one_line_journal_warnings() -> Iterator[None]:
    """Print a journal's warnings (a torn line, a damaged row skipped) as `warning: ...` lines, once each."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 (warnings' signature)
        # Looked up, not imported: records imports pandas, which `--help` and `list` should not pay for;
        # a JournalWarning exists only once records has been imported anyway.
        records = sys.modules.get("vggablate.run.records")
        if records is not None and issubclass(category, records.JournalWarning):
            print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            default(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; user errors exit 2 with one line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with _one_line_journal_warnings():
            return int(args.func(args) or 0)
    except UsageError as exc:
        return fail(str(exc))
    except RunError as exc:  # a run stopped part-way (a full disk): one line, and how to finish it
        fail(str(exc))
        return 1
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        fail(f"{exc.filename or 'writing'}: {exc.strerror}; free space, then run the command again")
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
