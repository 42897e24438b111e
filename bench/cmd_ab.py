"""``python -m bench ab --archs ... --a REV_OR_ENV --b REV_OR_ENV``: time two code states interleaved, compare."""

from __future__ import annotations

import argparse
import sys

from bench.common import add_model_options, model_options, nonnegative_int, number_type, positive_int, threads_type
from bench.comparison import add_rule_options, latency_rule, print_comparison
from vggablate.schema import DEVICES, MODES


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ab command."""
    p = sub.add_parser("ab", help="time two code states interleaved (A B B A ...) and compare their latency")
    p.add_argument("--archs", required=True, help="comma list of registered archs (or one cfg string)")
    p.add_argument("--a", required=True, metavar="REV_OR_ENV", help="baseline: a git revision, a python path or '.'")
    p.add_argument("--b", required=True, metavar="REV_OR_ENV", help="candidate: a git revision, a python path or '.'")
    p.add_argument("--rounds", type=_count(10_000), default=10, help="interleaved rounds, a fresh process each (10)")
    p.add_argument("--samples", type=_count(1_000_000), default=10, help="timed steps per side and round (10)")
    p.add_argument("--warmup", type=nonnegative_int, default=3, help="untimed steps per process (3)")
    p.add_argument("--batch-size", type=positive_int, default=1)
    p.add_argument("--input-size", type=positive_int, default=224)
    p.add_argument("--mode", choices=MODES, default="infer")
    p.add_argument("--device", choices=DEVICES, default="cpu")
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--threads", type=threads_type, help="torch intra-op threads (default: torch's; 1 is steadiest)")
    add_model_options(p)
    add_rule_options(p)
    p.add_argument("--save-dir", metavar="DIR", help="also write the pooled samples as DIR/a.json and DIR/b.json")
    p.add_argument("--out", metavar="FILE.md", help="also write the table to this file")
    p.add_argument("--quiet", action="store_true", help="no per-round progress")
    p.set_defaults(func=main)


def _count(maximum: int):  # noqa: ANN202 (an argparse type)
    return number_type(integer=True, minimum=1, exclusive_min=False, maximum=maximum)


def _progress(rounds: int, quiet: bool):
    import statistics

    def on_round(r: int, a: dict, b: dict) -> None:
        if quiet:
            return
        med = {s: {k: statistics.median(v) for k, v in out["samples_ms"].items()} for s, out in (("A", a), ("B", b))}
        text = ", ".join(f"{arch} A {med['A'][arch]:.3g} B {med['B'][arch]:.3g} ms" for arch in med["A"])
        print(f"  round {r + 1}/{rounds}: {text}", file=sys.stderr, flush=True)

    return on_round


def main(args: argparse.Namespace) -> int:
    """Open both sides, run the interleaved rounds, print the comparison; exit 1 on a regression."""
    from pathlib import Path

    from bench.archs_arg import split_archs
    from bench.common import check_output_file
    from vggablate.regress import CompareConfig, compare, save
    from vggablate.regress.ab import ABConfig, open_side, run_ab

    if args.out:  # outputs checked before the two code states are opened and timed
        check_output_file(args.out)
    if args.save_dir:  # a file where the folder should be fails as the parent of a.json
        for name in ("a.json", "b.json"):
            check_output_file(Path(args.save_dir) / name, "--save-dir")
    options = tuple((k, v) for k, v in model_options(args).items() if v is not None)
    cfg = ABConfig(archs=tuple(split_archs(args.archs)), options=options, rounds=args.rounds, samples=args.samples,
                   warmup=args.warmup, batch_size=args.batch_size, input_size=args.input_size, mode=args.mode,
                   device=args.device, precision=args.precision, channels_last=args.channels_last,
                   threads=args.threads)  # fmt: skip
    rule = latency_rule(args)
    with open_side("A", args.a) as a, open_side("B", args.b) as b:
        if not args.quiet:
            print(f"ab: A={a.given} ({a.code}), B={b.given} ({b.code}); {cfg.rounds} rounds x {cfg.samples} "
                  f"samples per side", file=sys.stderr, flush=True)  # fmt: skip
        old, new = run_ab(cfg, a, b, _progress(cfg.rounds, args.quiet))
    if args.save_dir:
        save(old, Path(args.save_dir) / "a.json")
        save(new, Path(args.save_dir) / "b.json")
    comparison = compare(old, new, CompareConfig(latency=rule, force=True))
    return print_comparison(comparison, f"A={args.a}", f"B={args.b}", args.out)
