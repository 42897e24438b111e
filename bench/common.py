"""Shared CLI pieces: a parser whose errors are one line, and value parsers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from vggablate.checks.choices import check_choices
from vggablate.checks.numbers import (
    MAX_EPOCHS,
    MAX_FLOAT,
    MAX_INT,
    MAX_SECONDS,
    MAX_SEEDS,
    parse_float,
    parse_int,
    range_problem,
)

# The boundary's checks, imported from here by every command: numbers (below), output paths and
# names; the library (vggablate.checks.numbers, .outputs, .names) applies the same rules itself.
from vggablate.checks.outputs import check_output_file, check_parent_folder  # noqa: F401 (re-exported)
from vggablate.data.catalog import defaults_phrase, list_datasets
from vggablate.errors import UsageError
from vggablate.schema import DEVICE_CHOICES, HEADS, PRECISIONS

if TYPE_CHECKING:
    from vggablate.claims.budgets import Judged
    from vggablate.run.drive import Plan

# The --dataset help of every command that trains: the catalog's names and per-device defaults.
DATASETS_HELP = f"{' | '.join(list_datasets())} (default {defaults_phrase()})"


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2, without the usage block."""

    def error(self, message: str) -> NoReturn:
        """Print a one-line error with a pointer to --help and exit 2."""
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(2)

    def parse_args(self, args=None, namespace=None):  # noqa: ANN001, ANN201 (argparse's signature)
        """Parse like argparse, but report unknown flags against the command they were given to."""
        # argparse hands a subcommand's unknown flags up to the top parser, whose error would
        # point to `python -m bench --help` instead of the subcommand's own --help.
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self.command_parser(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def command_parser(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """Return the innermost (sub)parser of the command chosen in ``parsed``."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(parsed, action.dest, None) or "")
                if isinstance(chosen, OneLineParser):
                    return chosen.command_parser(parsed)
        return self


# Measured: vgg11 at batch 1, 224x224, autocast on 2 cores: 7.6 s per forward in fp16, 0.5 s in fp32 and bf16.
FP16_CPU_WARNING = (
    "fp16 autocast on CPU lacks fast kernels and runs an order of magnitude slower than fp32; "
    "bf16 is the CPU's half precision"
)
# Above this many runnable processes per CPU, other work shares the cores that CPU timing uses.
BUSY_LOAD_PER_CPU = 0.5


def warn(message: str) -> None:
    """Print a one-line warning: the run goes on."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def contention_warning(load: float | None, cpus: int) -> str | None:
    """Return a warning when the load average says CPU timings would be inflated; None on a quiet machine."""
    if load is None or load <= BUSY_LOAD_PER_CPU * cpus:
        return None
    return (f"1-minute load average {load:.2f} on {cpus} CPU(s): other work is running, so CPU latency will be "
            "inflated; rerun on a quiet machine for figures to keep")  # fmt: skip


def fail(message: str) -> int:
    """Print a one-line error and return exit code 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def split_list(text: str, what: str) -> list[str]:
    """Split 'a,b,c' into stripped items; refuse empty ones ('1,,2', a trailing comma)."""
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise UsageError(f"{what} list {text!r} has an empty item; separate values with single commas")
    return items


def int_list(text: str, what: str = "value", minimum: int = 1) -> tuple[int, ...]:
    """Parse '1,8,32' into integers >= minimum."""
    items = split_list(text, what)
    try:
        values = tuple(parse_int(t) for t in items)
    except ValueError:
        raise UsageError(f"{what} must be comma-separated whole numbers, got {text!r}") from None
    if not values or min(values) < minimum:
        raise UsageError(f"every {what} must be >= {minimum}, got {text!r}")
    if max(values) > MAX_INT:
        raise UsageError(f"every {what} must be <= {MAX_INT:,}, got {text!r}")
    return values


def choice_list(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Parse 'a,b' into names that must each be one of ``allowed``."""
    values = tuple(split_list(text, what))
    check_choices(what, values, allowed, empty=repr(text))
    return values


def number_type(
    integer: bool = False, minimum: float = 0, maximum: float | None = None, exclusive_min: bool = True
) -> Callable[[str], float]:
    """Return an argparse type for a finite number in range (vggablate.checks.numbers' rule): no nan, inf or -0."""
    top = maximum if maximum is not None else (MAX_INT if integer else MAX_FLOAT)

    def parse(text: str) -> float:
        try:
            value = parse_int(text) if integer else parse_float(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        problem = range_problem(value, minimum, top, exclusive_min)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    parse.__name__ = "integer" if integer else "number"  # argparse names the type in its messages
    return parse


positive_float = number_type()  # > 0, finite
positive_int = number_type(integer=True, minimum=1, exclusive_min=False)  # >= 1
nonnegative_int = number_type(integer=True, minimum=0, exclusive_min=False)  # >= 0
seconds = number_type(maximum=MAX_SECONDS)  # a timeout or a time budget: > 0, at most a week
epochs_type = number_type(maximum=MAX_EPOCHS)
seeds_type = number_type(integer=True, minimum=1, exclusive_min=False, maximum=MAX_SEEDS)
threads_type = number_type(integer=True, minimum=1, exclusive_min=False, maximum=4096)


HEAD_HELP = "classifier head: imagenet (torchvision's 4096-4096 MLP) or gap (global pool + linear, small inputs)"


def add_class_and_bn_options(parser: argparse.ArgumentParser, classes_note: str = "") -> None:
    """Add --num-classes and --batch-norm, which override a registered arch's own values."""
    parser.add_argument("--num-classes", type=positive_int, help=f"output classes{classes_note}")
    parser.add_argument(
        "--batch-norm", action=argparse.BooleanOptionalAction, default=None, help="BatchNorm after each conv"
    )


def add_setting_options(parser: argparse.ArgumentParser, batch_example: str = "1,8") -> None:
    """Add the settings `bench measure` and `bench profile` share: device, batch sizes, input, precision, mode."""
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="cpu",
                        help="cpu (default), cuda, or auto: cuda when torch sees one, else cpu")  # fmt: skip
    parser.add_argument(
        "--batch-sizes", default="1", help=f"comma-separated batch sweep, e.g. {batch_example} (default 1)"
    )
    parser.add_argument("--input-size", type=positive_int, default=224, help="square input side (default 224)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32", help="bf16/fp16 via autocast")
    parser.add_argument("--mode", default="infer", help="comma-separated: infer,train (default infer)")
    parser.add_argument("--channels-last", action="store_true", help="NHWC weights and inputs")


def setting_trial(args: argparse.Namespace, kind: str = "counts", **extra: object) -> object:
    """Resolve the arch and build the checked base Trial of `bench measure` / `bench profile` from their flags."""
    from vggablate import resolve_spec
    from vggablate.run.device import resolve_device
    from vggablate.run.trial import Trial, check_trial

    load_arch_files(args)
    spec = resolve_spec(args.arch, **model_options(args))
    trial = Trial(spec, kind=kind, input_size=args.input_size, device=resolve_device(args.device),
                  precision=args.precision, channels_last=args.channels_last, cudnn_benchmark=args.cudnn_benchmark,
                  budget_s=args.budget, threads=args.threads, **extra)  # fmt: skip
    return check_trial(trial)  # CUDA absent, tf32 on CPU, input too small: one line, exit 2, before any work


def check_settings_fit(
    base: object, kinds: tuple[str, ...], modes: tuple[str, ...], batch_sizes: tuple[int, ...]
) -> None:
    """Refuse, before any trial, settings whose smallest batch cannot fit in memory (vggablate.run.memcheck)."""
    from dataclasses import replace

    from vggablate.run.memcheck import check_trials_fit

    check_trials_fit([replace(base, kind=k, mode=m, batch_size=b) for k in kinds for m in modes for b in batch_sizes])


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Add the spec options shared by every command that builds a model."""
    parser.add_argument("--width", type=positive_float, help="channel multiplier (default 1)")
    parser.add_argument("--head", choices=HEADS, help=HEAD_HELP)
    add_class_and_bn_options(parser)
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
    from vggablate.arch.archfile import load_arch_file

    for path in args.arch_file:
        load_arch_file(path)


# Exit codes (docs/reliability.md): 0 all measured; 1 some trials failed or none measured; 2 bad input; 130 Ctrl-C.
EXIT_TRIALS_FAILED = 1


def report_failures(plan: Plan, command: str = "run --resume {path} --retry-errors") -> int:
    """Print one closing line when trials failed, or none gave a result, and return 1; else return 0.

    An OOM row is a result in a batch-size sweep whose other sizes ran; a run in which no trial gave a
    figure measured nothing, and says so.
    """
    from vggablate.run import drive as runner
    from vggablate.schema import ERROR_TYPES

    failed = runner.failures(plan)
    if not failed and plan.trials and not runner.measured(plan):
        print(f"nothing was measured: all {len(plan.trials)} trials ran out of memory; see the Errors table in "
              f"{plan.folder.path / 'summary.md'}", file=sys.stderr, flush=True)  # fmt: skip
        return EXIT_TRIALS_FAILED
    if not failed:
        return 0
    kinds = ", ".join(f"{k} {failed[k]}" for k in ERROR_TYPES if failed[k])
    path = plan.folder.path
    print(f"{sum(failed.values())} of {len(plan.trials)} trials failed ({kinds}): see the Errors table in "
          f"{path / 'summary.md'}; rerun them with python -m bench {command.format(path=path)}",
          file=sys.stderr, flush=True)  # fmt: skip
    return EXIT_TRIALS_FAILED


def finish(run_dir: Path, quiet: bool, sections: tuple = ()) -> int:
    """Build the reports, print the compact results table and the report's path."""
    from vggablate.report.build import build_reports_and_tables
    from vggablate.report.summary import markdown_table

    tables = build_reports_and_tables(run_dir, sections)[1]
    if not quiet:
        # summary.md's first table (the per-arch overview) is the compact table for the terminal.
        print(markdown_table(tables[0].frame) if tables else "(no results)")
    print(f"report: {run_dir / 'report.html'}")
    return 0


def report_claims(run_dir, label: str, quiet: bool, kernels_device: str | None = None) -> tuple[int, Judged]:
    """Write claims.md and the claim plots, then the run's reports; return the exit code and the judgement."""
    from vggablate.claims.budgets import write_claims
    from vggablate.claims.paper import ACCURACY_CLAIM_IDS

    extra = []
    if kernels_device is not None:  # the beyond-the-paper claim, timed here (vggablate/claims/kernels.py)
        from vggablate.claims.kernels import default_config, judge_kernel_claim

        extra = judge_kernel_claim(default_config(kernels_device))
    section, rows, judged = write_claims(run_dir, label, extra)
    if not quiet:
        for r in rows:
            if r.claim != "static":
                print(f"  {r.verdict:>28}  {r.title}", file=sys.stderr)
            if r.claim in ACCURACY_CLAIM_IDS:  # the effect, its CI and the seeds per side; what would resolve it
                print(f"{'':32}{r.measured}" + (f"\n{'':32}{r.note}" if r.verdict != "holds" else ""), file=sys.stderr)
    if not quiet and judged.advice:
        print(f"  {judged.advice}", file=sys.stderr)
    print(f"claims: {run_dir / 'claims.md'}")
    return finish(run_dir, quiet=True, sections=(section,)), judged


def setting_title(trial: object) -> str:
    """Describe a trial's arch and setting on one line (the heading of `bench measure` and `bench profile`)."""
    s = trial.spec
    return (
        f"{s.name}: {s.cfg_str}  (bn={s.batch_norm}, width={s.width}, head={s.head}, classes={s.num_classes}, "
        f"input {trial.input_size}x{trial.input_size}, {trial.device}, {trial.precision}"
        f"{', channels_last' if trial.channels_last else ''}{', compiled' if trial.compile else ''})"
    )
