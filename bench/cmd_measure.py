"""``python -m bench measure ARCH|CFG``: params, MACs, latency and peak memory, each trial isolated."""

from __future__ import annotations

import argparse
import json
import math

from bench.common import (
    add_model_options,
    choice_list,
    int_list,
    load_arch_files,
    model_options,
    positive_float,
    positive_int,
)
from vggablate.measure.latency import MODES, PRECISIONS

METRICS = ("params", "macs", "latency", "memory")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the measure command."""
    p = sub.add_parser("measure", help="params, MACs, latency and peak memory of an arch or cfg")
    p.add_argument("arch", help="registered name or cfg string, e.g. vgg16 or '64,M,128x2,M'")
    p.add_argument("--metrics", default="params,macs,latency", help=f"comma-separated: {','.join(METRICS)}")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--batch-sizes", default="1", help="comma-separated batch sweep, e.g. 1,8,32 (default 1)")
    p.add_argument("--input-size", type=positive_int, default=224, help="square input side (default 224)")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32", help="bf16/fp16 via autocast")
    p.add_argument("--mode", default="infer", help="comma-separated: infer,train (default infer)")
    p.add_argument("--channels-last", action="store_true", help="NHWC weights and inputs")
    p.add_argument("--compile", action="store_true", help="torch.compile; compile time reported apart")
    p.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN autotune conv algorithms")
    p.add_argument("--budget", type=positive_float, default=2.0, help="seconds of timed steps per row (default 2)")
    p.add_argument("--threads", type=positive_int, help="CPU intra-op threads (default: torch's)")
    p.add_argument("--timeout", type=positive_float, default=900.0, help="seconds per trial before it is killed")
    p.add_argument("--decay-on-oom", action="store_true", help="after an OOM, retry smaller batches (timm)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON lines instead of tables")
    add_model_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the requested measurements, each in a fresh process, and print them."""
    from dataclasses import replace

    from vggablate import resolve_spec
    from vggablate.trial import Trial, check_trial, run_batch_sweep, run_trial_isolated

    metrics = choice_list(args.metrics, METRICS, "metric")
    modes = choice_list(args.mode, MODES, "mode")
    batch_sizes = int_list(args.batch_sizes, "batch size")
    load_arch_files(args)
    spec = resolve_spec(args.arch, **model_options(args))
    base = Trial(
        spec,
        input_size=args.input_size,
        device=args.device,
        precision=args.precision,
        channels_last=args.channels_last,
        compile=args.compile,
        cudnn_benchmark=args.cudnn_benchmark,
        budget_s=args.budget,
        threads=args.threads,
    )
    check_trial(base)  # CUDA absent, tf32 on CPU, input too small: one line, exit 2, before any work
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
    print(_title(base))
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
        print("FLOP/s count 2 x MACs per image (x3 for train); utilisation is a fraction of the peak named")


def _title(trial: object) -> str:
    s = trial.spec
    return (
        f"{s.name}: {s.cfg_str}  (bn={s.batch_norm}, width={s.width}, head={s.head}, classes={s.num_classes}, "
        f"input {trial.input_size}x{trial.input_size}, {trial.device}, {trial.precision}"
        f"{', channels_last' if trial.channels_last else ''}{', compiled' if trial.compile else ''})"
    )


def _count_lines(r: dict, metrics: tuple[str, ...]) -> list[str]:
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
            f"MACs         {_si(r['macs'])} (conv {_si(r['macs_conv'])}, classifier {_si(r['macs_classifier'])}); "
            f"FLOPs {_si(r['flops'])}; 1 MAC = 1 multiply-add, FLOPs = 2 x MACs",
            f"other ops    {_si(r['macs_other'])} MACs (BatchNorm, pooling, LRN; not in MACs)",
            f"stage MACs   {', '.join(_si(v) for v in r['stage_macs'])}",
            f"activations  {_si(r['activations'])} (conv and linear outputs, per image)",
        ]
    return lines


def _latency_columns(r: dict) -> dict:
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
        "util vs gemm": _fraction(r["util_vs_measured_gemm"]),
        "gemm TFLOP/s": _number(r["peak_tflops_measured"], ".3g"),
        "MFU vs spec": _fraction(r["mfu_vs_spec"]),
        "compile s": _number(r["compile_s"], ".1f"),
        "threads": r["threads"],
    }


def _memory_columns(r: dict) -> dict:
    head = {"mode": r["mode"], "batch": r["batch_size"]}
    if r["error"]:
        return {**head, "error": f"{r['error_type']}: {r['error']}"}
    cuda = r["mem_peak_alloc_mb"] is not None
    measured = {"peak alloc MiB": r["mem_peak_alloc_mb"], "peak reserved MiB": r["mem_peak_reserved_mb"]}
    return {
        **head,
        "weights MiB": f"{r['mem_weights_mb']:.1f}",
        **({k: f"{v:.1f}" for k, v in measured.items()} if cuda else {"peak RSS MiB": f"{r['mem_rss_peak_mb']:.1f}"}),
        "analytic MiB": f"{r['mem_analytic_mb']:.1f}",
        "= weights": f"{r['mem_analytic_weights_mb']:.1f}",
        "+ activations": f"{r['mem_analytic_activations_mb']:.1f}",
        "+ grads": f"{r['mem_analytic_grads_mb']:.1f}",
        "+ optimizer": f"{r['mem_analytic_optimizer_mb']:.1f}",
    }


def _si(value: float) -> str:
    """Format a count with a G/M/k prefix, three decimals (vgg16: 15.470 G, torchvision's GMACs)."""
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3f} {prefix}"
    return f"{value:g}"


def _fraction(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.1%}"


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)
