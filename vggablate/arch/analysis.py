"""Analytic per-layer table from a spec and an input size: shapes, receptive field, params, MACs.

Convention (torchvision's): 1 MAC = one multiply-add; conv and linear layers only,
bias excluded; BatchNorm, ReLU, pooling and LRN count 0 MACs. Params include biases
and BatchNorm's affine weights (running statistics are buffers, not parameters).
"""

from __future__ import annotations

from dataclasses import dataclass

from vggablate.arch.spec import IMAGENET_HIDDEN, IMAGENET_POOL, ArchSpec, check_input_size


@dataclass(frozen=True)
class LayerInfo:
    """One row of the analytic table."""

    name: str  # the module's name in build_model's network, e.g. "features.0"
    kind: str  # conv | bn | pool | lrn | avgpool | linear
    stage: int  # 1-based conv stage (stages end at max-pools); 0 for the head
    kernel: int
    in_channels: int
    out_channels: int
    out_shape: tuple[int, ...]  # (C, H, W) or (features,)
    receptive_field: int  # on the input, in pixels; 0 for the head
    params: int
    macs: int


@dataclass(frozen=True)
class Totals:
    """Whole-model sums of a layer table."""

    params: int
    macs: int
    params_conv: int  # features: conv and BatchNorm
    params_classifier: int
    macs_conv: int
    macs_classifier: int
    conv_layers: int
    stage_params: tuple[int, ...]
    stage_macs: tuple[int, ...]


def _feature_rows(spec: ArchSpec, size: int) -> list[LayerInfo]:
    rows: list[LayerInfo] = []
    c, h, stage, idx = spec.in_channels, size, 1, 0
    rf, jump = 1, 1  # receptive field and the input-pixel stride between adjacent outputs
    for layer in spec.channels():
        if layer.kind == "pool":
            rf, jump, h = rf + jump, jump * 2, h // 2
            rows.append(LayerInfo(f"features.{idx}", "pool", stage, 2, c, c, (c, h, h), rf, 0, 0))
            stage, idx = stage + 1, idx + 1
        elif layer.kind == "lrn":
            rows.append(LayerInfo(f"features.{idx}", "lrn", stage, 0, c, c, (c, h, h), rf, 0, 0))
            idx += 1
        else:
            k, out = layer.kernel, layer.channels
            rf += (k - 1) * jump
            params, macs = k * k * c * out + out, k * k * c * out * h * h
            rows.append(LayerInfo(f"features.{idx}", "conv", stage, k, c, out, (out, h, h), rf, params, macs))
            idx += 1
            if spec.batch_norm:
                rows.append(LayerInfo(f"features.{idx}", "bn", stage, 0, out, out, (out, h, h), rf, 2 * out, 0))
                idx += 1
            idx += 1  # ReLU
            c = out
    return rows


def _head_rows(spec: ArchSpec, channels: int) -> list[LayerInfo]:
    if spec.head == "gap":
        dims, first = [channels, spec.num_classes], 1  # classifier: Dropout, Linear
        pool = 1
    else:
        flat = channels * IMAGENET_POOL * IMAGENET_POOL
        dims, first = [flat, IMAGENET_HIDDEN, IMAGENET_HIDDEN, spec.num_classes], 0
        pool = IMAGENET_POOL
    rows = [LayerInfo("avgpool", "avgpool", 0, 0, channels, channels, (channels, pool, pool), 0, 0, 0)]
    for i, (n_in, n_out) in enumerate(zip(dims, dims[1:])):
        rows.append(
            LayerInfo(
                f"classifier.{first + 3 * i}",
                "linear",
                0,
                0,
                n_in,
                n_out,
                (n_out,),
                0,
                n_in * n_out + n_out,
                n_in * n_out,
            )
        )
    return rows


def layer_table(spec: ArchSpec, input_size: int = 224) -> list[LayerInfo]:
    """Return the analytic per-layer table of a spec at a square input size."""
    check_input_size(spec.cfg, input_size)
    rows = _feature_rows(spec, input_size)
    channels = next(r.out_channels for r in reversed(rows) if r.kind == "conv")
    return rows + _head_rows(spec, channels)


def totals(rows: list[LayerInfo]) -> Totals:
    """Sum a layer table into whole-model and per-stage figures."""
    feats = [r for r in rows if r.stage > 0]
    head = [r for r in rows if r.stage == 0]
    n_stages = max(r.stage for r in feats)
    # A trailing stage with no conv (cfg ending in a pool) adds an empty stage: drop it.
    stages = [s for s in range(1, n_stages + 1) if any(r.stage == s and r.kind == "conv" for r in feats)]
    return Totals(
        params=sum(r.params for r in rows),
        macs=sum(r.macs for r in rows),
        params_conv=sum(r.params for r in feats),
        params_classifier=sum(r.params for r in head),
        macs_conv=sum(r.macs for r in feats),
        macs_classifier=sum(r.macs for r in head),
        conv_layers=sum(r.kind == "conv" for r in feats),
        stage_params=tuple(sum(r.params for r in feats if r.stage == s) for s in stages),
        stage_macs=tuple(sum(r.macs for r in feats if r.stage == s) for s in stages),
    )


def analyse(spec: ArchSpec, input_size: int = 224) -> Totals:
    """Return the totals of a spec's analytic table at an input size."""
    return totals(layer_table(spec, input_size))
