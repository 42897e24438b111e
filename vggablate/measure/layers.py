"""The ``layers`` rows: one per layer of one setting, with counts, bytes, time and the machine's roofs.

Per layer: shapes, params, MACs from the analytic table (per image, bias excluded), fvcore's
count with vggablate's handlers and FlopCounterMode's FLOPs (batch 1), the bytes moved at the
run's precision, arithmetic intensity, and the per-layer timing of ``measure.profile``.
Conventions, stated once:
- FLOPs = 2 x MACs x batch, x3 in train mode (backward ~ 2x forward, as ``peaks.utilisation``).
- Bytes: element size of the run's precision (4 for fp32/tf32, 2 for bf16/fp16 autocast) x
  (weights + batch x (input + output elements)); in train mode the gradients of the same
  three tensors move too: x2. A nominal lower bound (each tensor touched once), not a trace.
- ``profile_model_ms_p50``: the whole-model median of ``measure_latency`` (no hooks), timed in
  the same process in rounds interleaved with the per-layer profile's (``ROUNDS``, samples
  pooled), so a drift in a shared machine's load lands on both, not on one. ``profile_sum_ms``: the sum of the
  per-layer medians (train: with the loss and optimizer pseudo-layers). Their ratio is the
  agreement check that ``bench profile`` prints.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace

import numpy as np
import torch

from vggablate.arch.analysis import layer_table
from vggablate.arch.factory import create_model
from vggablate.arch.spec import ArchSpec
from vggablate.measure.bandwidth import measured_bandwidth_gbs, spec_bandwidth
from vggablate.measure.latency import StepConfig, measure_latency
from vggablate.measure.ledger import per_layer_counts, trace_leaves
from vggablate.measure.peaks import measured_gemm_tflops, spec_peak
from vggablate.measure.profile import merge_profiles, profile_layers

ELEMENT_BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2}
PSEUDO_LAYERS = ("loss", "optimizer")  # train mode only: not modules, but part of the step
ROUNDS = 4  # whole-model and per-layer timing alternate this many times, cfg.budget_s / ROUNDS each


def layer_rows(spec: ArchSpec, cfg: StepConfig, device_name: str = "") -> list[dict]:
    """Profile the spec's network under cfg; return one figure dict per layer (``layers`` rows)."""
    model = create_model(spec)
    whole, parts = [], []
    for i in range(ROUNDS):  # after the first round the kernels are warm: one warm-up step is enough
        part = replace(cfg, budget_s=cfg.budget_s / ROUNDS, min_samples=2, warmup=cfg.warmup if i == 0 else 1)
        whole += measure_latency(model, part).samples_s
        parts.append(profile_layers(model, part))
    prof = merge_profiles(parts)
    whole_s = statistics.median(whole)
    static = _static_columns(spec, cfg)
    cuda = cfg.device.startswith("cuda")
    spec_tf = spec_peak(device_name, cfg.precision) if cuda else None
    spec_bw = spec_bandwidth(device_name) if cuda else None
    gemm_tflops = measured_gemm_tflops(cfg.device, cfg.precision)
    setting = {
        "profile_model_ms_p50": whole_s * 1e3,
        "profile_step_ms_p50": statistics.median(prof.step_s) * 1e3,
        "peak_tflops_measured": gemm_tflops,
        "peak_tflops_spec": spec_tf.tflops if spec_tf else None,
        "bandwidth_gbs_measured": measured_bandwidth_gbs(cfg.device),
        "bandwidth_gbs_spec": spec_bw.tflops if spec_bw else None,
        "threads": prof.threads,
    }
    medians = {lay.name: float(np.median(lay.total_s)) for lay in prof.layers}
    total_s = sum(medians.values())
    total_macs = sum(s["layer_macs"] for s in static.values())
    rows = []
    for i, lay in enumerate(prof.layers):
        st = static.get(lay.name) or _pseudo(lay.name)
        q25, q75 = (float(v) for v in np.percentile(lay.total_s, [25, 75]))
        t = medians[lay.name]
        flops = 2 * st["layer_macs"] * cfg.batch_size * (3 if cfg.mode == "train" else 1)
        rows.append({
            "layer_index": i, **st,
            "layer_ms_p50": t * 1e3, "layer_ms_q25": q25 * 1e3, "layer_ms_q75": q75 * 1e3,
            "layer_ms_iqr": (q75 - q25) * 1e3,
            "layer_fwd_ms_p50": float(np.median(lay.forward_s)) * 1e3,
            "layer_bwd_ms_p50": float(np.median(lay.backward_s)) * 1e3 if lay.backward_s else None,
            "layer_n": len(lay.forward_s),
            "layer_time_share": t / total_s if total_s > 0 else None,
            "layer_mac_share": st["layer_macs"] / total_macs if total_macs else None,
            "layer_flops": flops,
            "layer_gflops": flops / t / 1e9 if t > 0 and flops else None,
            "layer_util_gemm": flops / t / (gemm_tflops * 1e12) if t > 0 and flops else None,
            "profile_sum_ms": total_s * 1e3,
            **setting,
        })  # fmt: skip
    return rows


def _static_columns(spec: ArchSpec, cfg: StepConfig) -> dict[str, dict]:
    """Return {layer: shapes, params, counts and bytes}, from a fresh CPU copy of the network at batch 1."""
    model = create_model(spec).eval()
    x = torch.randn(1, spec.in_channels, cfg.input_size, cfg.input_size)
    leaves = trace_leaves(model, x)
    counts = per_layer_counts(model, x)
    table = {r.name: r for r in layer_table(spec, cfg.input_size)}
    elem = ELEMENT_BYTES[cfg.precision] * (2 if cfg.mode == "train" else 1)
    out, stage = {}, 1
    for leaf in leaves:
        row = table.get(leaf.name)
        stage = row.stage if row is not None else stage  # ReLU and dropout: the stage of the layer before
        macs = row.macs if row is not None else 0
        params = sum(p.numel() for p in leaf.module.parameters())
        nbytes = elem * (params + cfg.batch_size * (leaf.in_numel + leaf.out_numel))
        flops = 2 * macs * cfg.batch_size * (3 if cfg.mode == "train" else 1)
        out[leaf.name] = {
            "layer": leaf.name, "layer_kind": leaf.kind, "layer_stage": stage,
            "layer_kernel": row.kernel if row is not None else 0,
            "layer_in_shape": list(leaf.in_shape), "layer_out_shape": list(leaf.out_shape),
            "layer_params": params, "layer_macs": macs,
            "layer_macs_fvcore": counts[leaf.name][0], "layer_flops_fcm": counts[leaf.name][1],
            "layer_bytes": nbytes, "layer_intensity": flops / nbytes if nbytes else None,
        }  # fmt: skip
    return out


def _pseudo(name: str) -> dict:
    """Static columns of the loss and optimizer pseudo-layers: no shapes, no MACs."""
    return {"layer": name, "layer_kind": name, "layer_stage": 0, "layer_kernel": 0, "layer_in_shape": None,
            "layer_out_shape": None, "layer_params": 0, "layer_macs": 0, "layer_macs_fvcore": None,
            "layer_flops_fcm": None, "layer_bytes": None, "layer_intensity": None}  # fmt: skip


def agreement(rows: list[dict]) -> float:
    """Return sum of per-layer medians / whole-model median - 1 of one setting's rows (nan when absent)."""
    if not rows or not rows[0].get("profile_model_ms_p50"):
        return math.nan
    return rows[0]["profile_sum_ms"] / rows[0]["profile_model_ms_p50"] - 1
