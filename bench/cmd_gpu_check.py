"""``python -m bench gpu-check``: every CUDA measurement path on vgg16 in a few minutes, as one table.

The headline rows are vgg16 at 224x224, bf16 autocast, channels_last, cuDNN autotuning:
inference throughput at batch 64 and 256 with its utilisation of the measured matmul peak
(and of the datasheet peak when the card is known), and the peak memory of one training step.
The other rows exercise fp32, tf32, fp16 training with loss scaling, torch.compile, inference
memory and an out-of-memory trial that must come back as a row, not a crash.
"""

from __future__ import annotations

import argparse
import datetime
import time

from bench.common import fail, seconds

# An out-of-memory trial: vgg16 bf16 training at batch 4096 needs ~170 GB by the analytic estimate.
OOM_BATCH = 4096


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the gpu-check command."""
    p = sub.add_parser("gpu-check", help="exercise every CUDA measurement path (needs CUDA, < 5 min)")
    p.add_argument("--budget", type=seconds, default=1.0, help="seconds of timed steps per row (default 1)")
    p.add_argument("--timeout", type=seconds, default=240.0, help="seconds per trial (default 240)")
    p.set_defaults(func=main)


def checks() -> list[tuple[str, object]]:
    """Return the (label, trial) pairs the check runs, headline first."""
    from dataclasses import replace

    from vggablate import get_arch
    from vggablate.run.trial import Trial

    base = Trial(
        get_arch("vgg16"),
        kind="latency",
        device="cuda",
        precision="bf16",
        channels_last=True,
        cudnn_benchmark=True,
        batch_size=64,
    )
    return [
        ("bf16 NHWC infer b64", base),
        ("bf16 NHWC infer b256", replace(base, batch_size=256)),
        ("bf16 NHWC train-step memory b64", replace(base, kind="memory", mode="train")),
        ("bf16 NHWC infer memory b256", replace(base, kind="memory", batch_size=256)),
        ("fp32 NCHW infer b64", replace(base, precision="fp32", channels_last=False)),
        ("tf32 NHWC infer b64", replace(base, precision="tf32")),
        ("fp16 NHWC train b64 (loss scaling)", replace(base, precision="fp16", mode="train")),
        ("bf16 NHWC infer b64 compiled", replace(base, compile=True)),
        ("bf16 NHWC per-layer profile b64", replace(base, kind="layers")),
        ("bf16 NHWC per-layer profile train b64", replace(base, kind="layers", mode="train")),
        (f"bf16 NHWC train b{OOM_BATCH} (expect oom)", replace(base, mode="train", batch_size=OOM_BATCH)),
    ]


def main(args: argparse.Namespace) -> int:
    """Run the checks, each in a fresh process, and print one table."""
    from dataclasses import replace

    import pandas as pd
    import torch

    from vggablate.run.execute import run_trial_isolated

    if not torch.cuda.is_available():
        return fail("gpu-check needs CUDA and torch.cuda.is_available() is False on this machine")
    start = time.perf_counter()
    table = []
    for label, trial in checks():
        row = run_trial_isolated(replace(trial, budget_s=args.budget), args.timeout)[0]
        table.append({"check": label, **_figures(row)})
    name = torch.cuda.get_device_name()
    print(
        f"gpu-check on {name}, {datetime.date.today().isoformat()}, torch {torch.__version__}, "
        f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}; vgg16 at 224x224"
    )
    print(pd.DataFrame(table).to_string(index=False))
    print(f"took {time.perf_counter() - start:.0f} s; utilisation = achieved FLOP/s (2 x MACs, x3 train) / peak")
    return 0


def _figures(row: dict) -> dict:
    """Format one row's headline figures (formatting lives here, never in measurement)."""
    if row["error"]:
        return {"result": f"{row['error_type']}: {row['error'][:70]}"}
    if row["kind"] == "layers":  # one row per layer: the first carries the setting's figures
        spec_bw = row["bandwidth_gbs_spec"]
        return {
            "result": f"layers sum {row['profile_sum_ms']:.2f} ms vs whole {row['profile_model_ms_p50']:.2f} ms "
            f"({row['profile_sum_ms'] / row['profile_model_ms_p50'] - 1:+.1%}); triad "
            f"{row['bandwidth_gbs_measured']:.0f} GB/s" + (f" of spec {spec_bw:.0f}" if spec_bw else "")
        }
    if row["kind"] == "memory":
        return {
            "result": f"peak alloc {row['mem_peak_alloc_mb']:.0f} MiB, reserved {row['mem_peak_reserved_mb']:.0f} MiB "
            f"(weights {row['mem_weights_mb']:.0f}, analytic {row['mem_analytic_mb']:.0f})"
        }
    text = (
        f"{row['throughput_ips']:.0f} img/s, p50 {row['latency_ms_p50']:.2f} ms, "
        f"{row['gflops_achieved'] / 1e3:.0f} TFLOP/s = {row['util_vs_measured_gemm']:.0%} "
        f"of measured matmul {row['peak_tflops_measured']:.0f}"
    )
    if row["mfu_vs_spec"] is not None:
        text += f", MFU {row['mfu_vs_spec']:.0%} of spec {row['peak_tflops_spec']:.0f}"
    if row["compile_s"] is not None:
        text += f", compile {row['compile_s']:.0f} s"
    return {"result": text}
