"""Parameter, MAC and activation counts of a spec, measured on the built network with fvcore.

Convention: 1 MAC = one multiply-add; ``flops`` = 2 x ``macs``; torchvision's "GFLOPS" are GMACs.

- ``macs``: conv and linear only, bias excluded (torchvision's convention, fvcore's conv/linear
  handlers). It must equal the analytic table of ``vggablate.arch.analysis``; tests enforce it.
- ``macs_other``: everything else fvcore is told to count, decided here deliberately:
  BatchNorm (eval) uses fvcore's own handler, 2 per element with affine (normalise, then scale
  and shift); adaptive average pooling uses fvcore's, 1 per input element; LRN counts 10 per
  element: torch computes ``x / (k + alpha * avg5(x * x)) ** beta``, and each elementwise
  ``mul``, ``add``, ``pow`` and ``div`` counts 1 per output element (four ops, two of them
  ``mul``: 5) and the 5-channel window average (``avg_pool3d``) counts its window, 5.
- Zero: ReLU and max-pool (comparisons, no multiply-add), dropout, padding, reshapes.
- ``activations``: fvcore's convention, the output elements of conv and linear layers.
- Weight sizes count the state dict's floating-point tensors (parameters and BatchNorm running
  statistics) in MiB (2**20 bytes), as torchvision's ``file_size`` metadata does.

An operator with no handler is an error, not a warning: a count that silently skipped an
operator would be wrong.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass

import torch
from torch import nn

from vggablate.arch.analysis import layer_table
from vggablate.arch.factory import create_model
from vggablate.arch.spec import ArchSpec

MIB = 2**20
# Operators counted as 0 (see the module docstring), for both analyses.
_ZERO_OPS = ("aten::max_pool2d", "aten::pad", "aten::constant_pad_nd", "aten::dropout", "aten::relu_")
# torch's local_response_norm: x*x, avg_pool3d over the channel window, *alpha, +k, **beta, x / that.
_ELEMENTWISE_OPS = ("aten::mul", "aten::add", "aten::pow", "aten::div")
_LRN_WINDOW_OP = "aten::avg_pool3d"


@dataclass(frozen=True)
class Counts:
    """Counts of one spec at one input size; field names are the ``counts`` row columns."""

    params: int
    params_trainable: int
    params_conv: int  # the features (conv and BatchNorm)
    params_classifier: int
    weight_mb_fp32: float  # MiB
    weight_mb_bf16: float  # MiB
    macs: int  # conv + linear, per image
    flops: int  # 2 x macs
    macs_conv: int
    macs_classifier: int
    macs_other: int  # BatchNorm, adaptive pooling, LRN (module docstring)
    activations: int  # conv and linear output elements, per image
    conv_layers: int
    stage_params: tuple[int, ...]  # per conv stage (stages end at max-pools)
    stage_macs: tuple[int, ...]


def measure_counts(spec: ArchSpec, input_size: int) -> Counts:
    """Count params, MACs and activations of the spec's network at a square input size."""
    model = create_model(spec).eval()
    x = torch.randn(1, spec.in_channels, input_size, input_size)
    flops, acts = _analyses(model, x)
    by_op = flops.by_operator()
    macs_conv, macs_linear = int(by_op.get("conv", 0)), int(by_op.get("linear", 0))
    stage_params, stage_macs = _per_stage(spec, input_size, model, flops.by_module_and_operator())
    floats = sum(t.numel() for t in model.state_dict().values() if t.is_floating_point())
    params = sum(p.numel() for p in model.parameters())
    return Counts(
        params=params,
        params_trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        params_conv=sum(p.numel() for p in model.features.parameters()),
        params_classifier=params - sum(p.numel() for p in model.features.parameters()),
        weight_mb_fp32=floats * 4 / MIB,
        weight_mb_bf16=floats * 2 / MIB,
        macs=macs_conv + macs_linear,
        flops=2 * (macs_conv + macs_linear),
        macs_conv=macs_conv,
        macs_classifier=macs_linear,
        macs_other=int(flops.total()) - macs_conv - macs_linear,
        activations=int(acts.total()),
        conv_layers=sum(isinstance(m, nn.Conv2d) for m in model.modules()),
        stage_params=stage_params,
        stage_macs=stage_macs,
    )


def _analyses(model: nn.Module, x: torch.Tensor) -> tuple:
    """Run fvcore's flop and activation analyses with every VGG operator handled."""
    with warnings.catch_warnings():
        # fvcore scripts a loss function on import; torch>=2.9 calls torch.jit.script deprecated.
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.* is deprecated", category=FutureWarning)
        from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

    zero = dict.fromkeys(_ZERO_OPS)
    flops = FlopCountAnalysis(model, x).set_op_handle(**zero, **_lrn_handles())
    acts = ActivationCountAnalysis(model, x).set_op_handle(
        **zero,
        **dict.fromkeys(_ELEMENTWISE_OPS + (_LRN_WINDOW_OP, "aten::batch_norm", "aten::adaptive_avg_pool2d")),
    )
    for analysis in (flops, acts):
        # We raise on unhandled operators below, so fvcore's log lines would only repeat it.
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        analysis.tracer_warnings("none").total()  # runs the trace
        missing = analysis.unsupported_ops()
        if missing:
            raise RuntimeError(f"no counting rule for operator(s) {dict(missing)}; add one in measure/counts.py")
    return flops, acts


def _lrn_handles() -> dict:
    """Return fvcore handles for the operators of torch's local_response_norm."""
    from fvcore.nn.jit_handles import get_shape

    def elementwise(inputs: list, outputs: list) -> int:
        return _numel(get_shape(outputs[0]))

    def window(inputs: list, outputs: list) -> int:
        # avg_pool3d(input, kernel_size, ...): kernel_size is traced as a list-construct node.
        kernel = inputs[1].toIValue() or [v.toIValue() for v in inputs[1].node().inputs()]
        return _numel(get_shape(outputs[0])) * _numel(kernel)

    return {**dict.fromkeys(_ELEMENTWISE_OPS, elementwise), _LRN_WINDOW_OP: window}


def _numel(shape: list[int] | tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _per_stage(spec: ArchSpec, size: int, model: nn.Module, by_module: dict) -> tuple[tuple[int, ...], ...]:
    """Sum measured params and conv MACs per stage, using the analytic table's stage numbers."""
    modules = dict(model.named_modules())
    params: dict[int, int] = defaultdict(int)
    macs: dict[int, int] = defaultdict(int)
    for row in layer_table(spec, size):
        if row.stage == 0 or row.kind not in ("conv", "bn"):
            continue
        params[row.stage] += sum(p.numel() for p in modules[row.name].parameters())
        macs[row.stage] += int(by_module.get(row.name, {}).get("conv", 0))
    stages = sorted(params)
    return tuple(params[s] for s in stages), tuple(macs[s] for s in stages)


def fvcore_analyses(model: nn.Module, x: torch.Tensor) -> tuple:
    """Return fvcore's flop and activation analyses of the model on x, with every VGG operator handled."""
    return _analyses(model, x)
