"""``python -m bench measure ARCH|CFG``: params, MACs, latency and peak memory, each trial isolated."""

from __future__ import annotations

import argparse
import json

from bench.common import (
    FP16_CPU_WARNING,
    add_model_options,
    add_setting_options,
    check_settings_fit,
    choice_list,
    int_list,
    seconds,
    setting_title,
    setting_trial,
    threads_type,
    warn,
)
from vggablate.schema import MODES

METRICS = ("params", "macs", "latency", "memory")
DEFAULT_METRICS = ("params", "macs", "latency")  # memory takes two more isolated trials per batch size and mode


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the measure command."""
    p = sub.add_parser("measure", help="params, MACs, latency and peak memory of an arch or cfg")
    p.add_argument("arch", help="registered name or cfg string, e.g. vgg16 or '64,M,128x2,M'")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                   help=f"comma-separated from {','.join(METRICS)} (default {','.join(DEFAULT_METRICS)}: memory is "
                        f"left out; add it with --metrics {','.join(DEFAULT_METRICS)},memory)")  # fmt: skip
    add_setting_options(p, "1,8,32")
    p.add_argument("--compile", action="store_true", help="torch.compile; compile time reported apart")
    p.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN autotune conv algorithms")
    # --latency-budget as in `bench run`; --budget, the older name, still works.
    p.add_argument("--latency-budget", "--budget", type=seconds, default=2.0, dest="budget",
                   help="seconds of timed steps per latency row (default 2; alias --budget)")  # fmt: skip
    p.add_argument("--threads", type=threads_type, help="CPU intra-op threads (default: torch's)")
    p.add_argument("--timeout", type=seconds, default=900.0, help="seconds per trial before it is killed")
    p.add_argument("--decay-on-oom", action="store_true", help="after an OOM, retry smaller batches (timm)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON lines instead of tables")
    add_model_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the requested measurements, each in a fresh process, and print them."""
    from dataclasses import replace

    from vggablate.run.execute import run_batch_sweep, run_trial_isolated

    metrics = choice_list(args.metrics, METRICS, "metric")
    modes = choice_list(args.mode, MODES, "mode")
    batch_sizes = int_list(args.batch_sizes, "batch size")
    base = setting_trial(args, compile=args.compile)
    kinds = (("counts",) if {"params", "macs"} & set(metrics) else ()) + tuple(
        k for k in ("latency", "memory") if k in metrics
    )
    check_settings_fit(base, kinds, modes, batch_sizes)
    if base.device == "cpu" and base.precision == "fp16" and {"latency", "memory"} & set(metrics):
        warn(FP16_CPU_WARNING)
    rows: list[dict] = []
    if {"params", "macs"} & set(metrics):
        rows += run_trial_isolated(replace(base, kind="counts"), args.timeout)
    for kind in ("latency", "memory"):
        for mode in modes if kind in metrics else ():
            trial = replace(base, kind=kind, mode=mode)
            rows += run_batch_sweep(trial, batch_sizes, args.timeout, decay_on_oom=args.decay_on_oom)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    print(setting_title(base))
    print_rows(rows, metrics)
    return 0


def print_rows(rows: list[dict], metrics: tuple[str, ...]) -> None:
    """Print counts as lines and latency and memory rows as tables."""
    import pandas as pd

    for row in rows:
        if row["kind"] == "counts":
            print("\n".join(_count_lines(row, metrics)))
    for kind, columns in (("latency", _latency_columns), ("memory", _memory_columns)):
        table = [columns(r) for r in rows if r["kind"] == kind]
        if table:
            print(f"\n{kind}:")
            print(pd.DataFrame(table).to_string(index=False))
    if any(r["kind"] == "latency" and r["error"] is None for r in rows):
        print(LATENCY_NOTE)
    if any(r["kind"] == "memory" and r["error"] is None for r in rows):
        cuda = any(r["kind"] == "memory" and r["mem_peak_alloc_mb"] is not None for r in rows)
        print(MEMORY_NOTE_CUDA if cuda else MEMORY_NOTE_CPU)
    if "memory" not in metrics:
        print(f"memory not measured (metrics {','.join(metrics)}); add it with --metrics {','.join(metrics)},memory")


LATENCY_NOTE = (
    "GFLOP/s counts 2 x MACs per image (x3 for a train step: forward and backward); util vs gemm = GFLOP/s / the "
    "gemm TFLOP/s column, a large matmul timed in the same precision and process; MFU vs spec = GFLOP/s / the "
    "device's datasheet peak ('-' where the device is not in the table, always on CPU)"
)
MEMORY_NOTE_CPU = (
    "MiB = 2^20 bytes. RSS after build: resident-set growth from building the model (its weights plus allocator "
    "and library overhead); step peak RSS: the step's peak resident set above the process baseline, weights "
    "included. est.: the analytic tensor memory, est. total = weights + activations + grads + optimizer"
)
MEMORY_NOTE_CUDA = (
    "MiB = 2^20 bytes. weights alloc: allocated by moving the model to the device; step peak alloc / reserved: "
    "the allocator's peaks over one steady-state step, weights included. est.: the analytic tensor memory, "
    "est. total = weights + activations + grads + optimizer"
)


def _count_lines(r: dict, metrics: tuple[str, ...]) -> list[str]:
    from vggablate.report.fmt import fmt_si

    if r["error"]:
        return [f"counts: error ({r['error_type']}): {r['error']}"]
    lines = []
    if "params" in metrics:
        p = r["params"]
        lines += [
            f"params       {p:,} (trainable {r['params_trainable']:,}; conv {r['params_conv'] / p:.1%}, "
            f"classifier {r['params_classifier'] / p:.1%})",
            f"weights      {r['weight_mb_fp32']:.2f} MiB fp32, {r['weight_mb_bf16']:.2f} MiB bf16",
            f"stage params {', '.join(f'{v:,}' for v in r['stage_params'])}",
        ]
    if "macs" in metrics:
        lines += [
            f"MACs         {fmt_si(r['macs'])} (conv {fmt_si(r['macs_conv'])}, "
            f"classifier {fmt_si(r['macs_classifier'])}); "
            f"FLOPs {fmt_si(r['flops'])}; 1 MAC = 1 multiply-add, FLOPs = 2 x MACs",
            f"other ops    {fmt_si(r['macs_other'])} MACs (BatchNorm, pooling, LRN; not in MACs)",
            f"stage MACs   {', '.join(fmt_si(v) for v in r['stage_macs'])}",
            f"activations  {fmt_si(r['activations'])} (conv and linear outputs, per image)",
        ]
    return lines


def _latency_columns(r: dict) -> dict:
    from vggablate.report.fmt import fmt_as

    head = {"mode": r["mode"], "batch": r["batch_size"]}
    if r["error"]:
        return {**head, "error": f"{r['error_type']}: {r['error']}"}
    return {
        **head,
        "p50 ms": f"{r['latency_ms_p50']:.3f}",
        "IQR ms": f"{r['latency_ms_iqr']:.3f}",
        "p10-p90 ms": f"{r['latency_ms_p10']:.3f}-{r['latency_ms_p90']:.3f}",
        "n": r["latency_n"],
        "img/s": f"{r['throughput_ips']:.1f}",
        "GFLOP/s": f"{r['gflops_achieved']:.1f}",
        "util vs gemm": fmt_as(r["util_vs_measured_gemm"], ".1%"),
        "gemm TFLOP/s": fmt_as(r["peak_tflops_measured"], ".3g"),
        "MFU vs spec": fmt_as(r["mfu_vs_spec"], ".1%"),
        "compile s": fmt_as(r["compile_s"], ".1f"),
        "threads": r["threads"],
    }


def _memory_columns(r: dict) -> dict:
    head = {"mode": r["mode"], "batch": r["batch_size"]}
    if r["error"]:
        return {**head, "error": f"{r['error_type']}: {r['error']}"}
    if r["mem_peak_alloc_mb"] is not None:  # CUDA: the caching allocator's counters
        measured = {
            "weights alloc MiB": r["mem_weights_mb"],
            "step peak alloc MiB": r["mem_peak_alloc_mb"],
            "step peak reserved MiB": r["mem_peak_reserved_mb"],
        }
    else:  # CPU: resident set, which counts allocator and library pages besides the tensors
        measured = {"RSS after build MiB": r["mem_weights_mb"], "step peak RSS MiB": r["mem_rss_peak_mb"]}
    estimate = {f"est. {part} MiB": r[f"mem_analytic_{part}_mb"] for part in _PARTS}
    return {**head, **{k: f"{v:.1f}" for k, v in measured.items()}, "est. total MiB": f"{r['mem_analytic_mb']:.1f}",
            **{k: f"{v:.1f}" for k, v in estimate.items()}}  # fmt: skip


_PARTS = ("weights", "activations", "grads", "optimizer")  # the analytic estimate's terms, mem_analytic_<part>_mb
