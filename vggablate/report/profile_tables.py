"""Tables of the ``layers`` rows (per-layer profile): per-setting summary and per-layer detail. No torch."""

from __future__ import annotations

import pandas as pd

from vggablate.report.fmt import fmt, fmt_as, fmt_sig, num
from vggablate.report.tables import ok_rows
from vggablate.schema import SETTING_KEYS

PROFILE_NOTE = (
    "sum = the per-layer medians added up (train: with the loss and optimizer pseudo-layers); whole = the "
    "harness's whole-model median (measure_latency, no hooks), same process; agreement = sum / whole - 1. "
    "Time vs MAC share: where they diverge, the kernels run below the layer average."
)
LAYER_NOTE = (
    "MACs: analytic, per image (bias excluded); fvcore: with vggablate's handlers; FCM/2: FlopCounterMode FLOPs / 2. "
    "Bytes: weights + batch x (input + output) at the run's precision (x2 in train: gradients). FLOP/B = "
    "2 x MACs x batch (x3 train) / bytes. % gemm: achieved GFLOP/s / the measured matmul peak."
)


def profile_settings(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Split the ``layers`` rows into one frame per setting, each in layer order."""
    rows = ok_rows(frame, "layers")
    if rows.empty:
        return []
    keys = [k for k in SETTING_KEYS if k in rows]
    groups = rows.groupby(keys, sort=True, dropna=False)
    return [g.sort_values("layer_index") for _, g in groups]


def profile_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One line per setting: sum of layer medians vs whole-model median, roofs, the slowest layer."""
    lines = []
    for g in profile_settings(frame):
        first = g.iloc[0]
        top = g.loc[g["layer_ms_p50"].idxmax()]
        agree = first["profile_sum_ms"] / first["profile_model_ms_p50"] - 1
        conv = g[g["layer_kind"] == "conv"]
        head = g[g["layer_kind"] == "linear"]
        lines.append({
            "arch": first["arch"], "input": int(first["input_size"]), "mode": first["mode"],
            "batch": int(first["batch_size"]), "precision": first["precision"],
            "sum of layers ms": fmt_sig(first["profile_sum_ms"]), "whole ms": fmt_sig(first["profile_model_ms_p50"]),
            "agreement": f"{agree:+.1%}" if num(agree) else "",
            "conv time / MACs": f"{conv['layer_time_share'].sum():.0%} / {conv['layer_mac_share'].sum():.0%}",
            "linear time / MACs": f"{head['layer_time_share'].sum():.0%} / {head['layer_mac_share'].sum():.0%}",
            "slowest layer": f"{top['layer']} ({top['layer_kind']}, {top['layer_time_share']:.0%})",
            "gemm TFLOP/s": fmt_sig(first["peak_tflops_measured"]),
            "triad GB/s": fmt_sig(first["bandwidth_gbs_measured"]),
        })  # fmt: skip
    return pd.DataFrame(lines)


def _shape(v: object) -> str:
    return "x".join(str(int(s)) for s in v) if isinstance(v, (list, tuple)) else ""


def _int(v: object) -> str:
    return f"{int(v):,}" if num(v) else ""


def layer_detail(setting: pd.DataFrame, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Format one setting's per-layer rows (optionally only some layer kinds) as a table of strings."""
    rows = setting if kinds is None else setting[setting["layer_kind"].isin(kinds)]
    out = []
    for r in rows.itertuples(index=False):
        r = r._asdict()
        fcm = r["layer_flops_fcm"]
        out.append({
            "layer": r["layer"], "kind": r["layer_kind"], "stage": _int(r["layer_stage"]) or "",
            "k": _int(r["layer_kernel"]) if r["layer_kernel"] else "",
            "in": _shape(r["layer_in_shape"]), "out": _shape(r["layer_out_shape"]),
            "params": _int(r["layer_params"]), "MACs": _int(r["layer_macs"]),
            "fvcore": _int(r["layer_macs_fvcore"]), "FCM/2": _int(fcm / 2) if num(fcm) else "",
            "MiB": fmt(r["layer_bytes"] / 2**20, 2) if num(r["layer_bytes"]) else "",
            "FLOP/B": fmt_sig(r["layer_intensity"]) if num(r["layer_intensity"]) and r["layer_intensity"] else "",
            "p50 ms": fmt_sig(r["layer_ms_p50"]), "IQR ms": fmt_sig(r["layer_ms_iqr"]),
            "time": fmt_as(r["layer_time_share"], ".1%", ""),
            "MACs %": fmt_as(r["layer_mac_share"], ".1%", "") if r["layer_macs"] else "",
            "GFLOP/s": fmt_sig(r["layer_gflops"]) if num(r["layer_gflops"]) else "",
            "% gemm": fmt_as(r["layer_util_gemm"], ".1%", ""),
        })  # fmt: skip
    return pd.DataFrame(out)


def headline_layers(frame: pd.DataFrame) -> pd.DataFrame:
    """The compute layers (conv, linear) of each arch's first setting, for summary.md."""
    seen, parts = set(), []
    for g in profile_settings(frame):
        arch = g.iloc[0]["arch"]
        if arch in seen:
            continue
        seen.add(arch)
        detail = layer_detail(g, ("conv", "linear"))
        parts.append(detail.assign(arch=arch, setting=_setting(g.iloc[0]))[["arch", "setting", *detail.columns]])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _setting(row: pd.Series) -> str:
    return f"{row['mode']} b{int(row['batch_size'])} {row['precision']} {int(row['input_size'])}px"
