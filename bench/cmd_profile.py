"""``python -m bench profile ARCH|CFG``: per-layer time, counts, bytes and roofs, and the compute ledger.

Each setting (mode x batch size) runs isolated, as ``bench measure`` runs latency; its rows
(kind ``layers``, one per layer) go to OUT/<stamp>-<arch>-<size>px-<device>-<precision>/rows.jsonl, from
which ``bench report`` rebuilds summary.md, report.html and the roofline and share plots.
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.common import (
    FP16_CPU_WARNING,
    add_model_options,
    add_setting_options,
    check_parent_folder,
    check_settings_fit,
    choice_list,
    contention_warning,
    int_list,
    seconds,
    setting_trial,
    threads_type,
    warn,
)
from vggablate.checks.outputs import JOURNAL
from vggablate.schema import MODES


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the profile command."""
    p = sub.add_parser("profile", help="per-layer latency, counts, bytes and roofline; the compute ledger")
    p.add_argument("arch", help="registered name or cfg string, e.g. vgg16 or '64,M,128x2,M'")
    add_setting_options(p)
    p.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN autotune conv algorithms")
    p.add_argument("--latency-budget", type=seconds, default=2.0, dest="budget",
                   help="seconds of timed steps for the profile and for the whole model, each (default 2)")  # fmt: skip
    p.add_argument("--threads", type=threads_type, help="CPU intra-op threads (default: torch's)")
    p.add_argument("--timeout", type=seconds, default=900.0, help="seconds per setting before it is killed")
    p.add_argument("--out", default="results/profile", help="parent of the profile folders: writes "
                   "OUT/<timestamp>-<arch>-<size>px-<device>-<precision>/ (default results/profile)")  # fmt: skip
    p.add_argument("--no-ledger", action="store_true", help="skip the compute ledger (every installed counter)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON lines instead of tables")
    add_model_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Profile every setting in a fresh process, print the tables, write the rows, plots and ledger."""
    from dataclasses import replace

    from bench.common import setting_title
    from vggablate.checks.names import safe_stem
    from vggablate.measure.env import available_cpus, load_average
    from vggablate.report.build import build_reports
    from vggablate.run.execute import run_batch_sweep
    from vggablate.run.records import atomic_write_text, encode_row
    from vggablate.run.sweep import new_run_folder

    check_parent_folder(args.out)  # before the work, not after it: a file or a run folder is refused
    modes = choice_list(args.mode, MODES, "mode")
    batch_sizes = int_list(args.batch_sizes, "batch size")
    base = setting_trial(args, kind="layers")
    check_settings_fit(base, ("layers",), modes, batch_sizes)
    spec = base.spec
    if base.device == "cpu":
        if base.precision == "fp16":
            warn(FP16_CPU_WARNING)
        message = contention_warning(load_average(), available_cpus())
        if message:
            warn(message)
    rows = [r for mode in modes for r in run_batch_sweep(replace(base, mode=mode), batch_sizes, args.timeout)]
    # A fresh <stamp>-<arch>-... folder, as `bench run` makes: a second profile never replaces the first.
    name = f"{safe_stem(spec.name, 'cfg')}-{args.input_size}px-{base.device}-{base.precision}"
    folder = new_run_folder(args.out, name).path
    atomic_write_text(folder / JOURNAL, "".join(encode_row(r) + "\n" for r in rows))
    ledger = None if args.no_ledger else _ledger(spec, args.input_size)
    if ledger is not None:
        atomic_write_text(folder / "ledger.md", ledger)
    written = build_reports(folder)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    print(setting_title(base))
    _print_settings(rows)
    if ledger is not None:
        print(f"\n{ledger}")
    plots = [str(p) for p in written if p.suffix == ".png"]
    print(f"\nwrote {folder}/: rows.jsonl, summary.md, report.html{', ledger.md' if ledger else ''}; plots: "
          f"{', '.join(plots) or 'none'}")  # fmt: skip
    return 1 if any(r["error"] for r in rows) else 0


def _print_settings(rows: list[dict]) -> None:
    """Print each setting's per-layer table, its roofs and the sum-vs-whole agreement."""
    from vggablate.measure.env import load_average
    from vggablate.report.fmt import fmt_as
    from vggablate.report.profile_tables import layer_detail, profile_settings
    from vggablate.run.records import to_frame

    for r in rows:
        if r["error"]:
            print(f"\n{r['mode']} batch {r['batch_size']}: error ({r['error_type']}): {r['error']}", file=sys.stderr)
    for g in profile_settings(to_frame([r for r in rows if not r["error"]])):
        first = g.iloc[0]
        print(f"\n{first['mode']}, batch {int(first['batch_size'])}, {int(first['threads'])} thread(s):")
        print(layer_detail(g).to_string(index=False))
        agree = first["profile_sum_ms"] / first["profile_model_ms_p50"] - 1
        spec_tf = first.get("peak_tflops_spec")
        spec_bw = first.get("bandwidth_gbs_spec")
        print(
            f"sum of per-layer medians {first['profile_sum_ms']:.3f} ms vs whole-model median "
            f"{first['profile_model_ms_p50']:.3f} ms (measure_latency, no hooks): {agree:+.1%} "
            f"(1-min load {fmt_as(first.get('env_loadavg_1m'), '.2f', 'unknown')} at the setting's start, "
            f"{fmt_as(load_average(), '.2f', 'unknown')} now)\n"
            f"roofs, measured here: matmul {first['peak_tflops_measured'] * 1e3:,.1f} GFLOP/s, triad "
            f"{first['bandwidth_gbs_measured']:,.1f} GB/s"
            + (f"; datasheet {spec_tf:,.0f} TFLOP/s, {spec_bw:,.0f} GB/s" if spec_tf == spec_tf and spec_tf else "")
        )
    print(
        "method: synchronous per-module timing (forward pre/post hooks; train: gradient hooks on each output); "
        "time = forward (+ backward) per step, median over steps; share = layer median / sum of medians"
    )


def _ledger(spec: object, input_size: int) -> str:
    """Return the compute ledger as Markdown (every installed counter, reconciled)."""
    from vggablate.measure.ledger import compute_ledger
    from vggablate.report.ledger_md import ledger_markdown

    return ledger_markdown(compute_ledger(spec, input_size), spec.name, input_size)
