"""The compute ledger: every installed counter's whole-model count, reconciled with the analytic MACs.

Counters: the analytic table (conv and linear multiply-adds, bias excluded: torchvision's
GMACs), fvcore with its default handlers (as a user runs it), torch's ``FlopCounterMode``
(FLOPs: 2 per multiply-add), and, when installed, thop, ptflops (its default ``pytorch``
backend) and torchinfo. Each counter's convention is written out below as per-layer rules
(``RULES``), read from its source and checked here: the ledger predicts each counter's total as
analytic + the rules' extras, and ``unattributed`` is what the rules do not explain. A test
requires it to be 0 for every installed counter on archs with BatchNorm and LRN: a counter
release that changes its convention fails the test instead of drifting silently.
Ops a counter skips (counts as 0) are listed by name.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from vggablate.arch.analysis import layer_table
from vggablate.arch.factory import create_model
from vggablate.arch.spec import ArchSpec

# Ops with no arithmetic (shape and metadata only): never reported as skipped.
_NO_ARITHMETIC = {"aten.view", "aten.t", "aten.squeeze", "aten.unsqueeze", "aten.randn", "aten.detach",
                  "aten._unsafe_view", "aten.expand", "aten.clone", "aten.empty", "aten.reshape"}  # fmt: skip
KIND_NAMES = {"conv": "conv", "linear": "linear", "bn": "BatchNorm", "relu": "ReLU", "pool": "max-pool",
              "avgpool": "adaptive avg-pool", "lrn": "LRN", "dropout": "dropout"}  # fmt: skip


@dataclass(frozen=True)
class Leaf:
    """One leaf module of the network, as run: its name, kind and tensor shapes (batch 1)."""

    name: str
    kind: str  # conv | linear | bn | relu | pool | avgpool | lrn | dropout
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    module: nn.Module

    @property
    def in_numel(self) -> int:
        """Input elements."""
        return math.prod(self.in_shape)

    @property
    def out_numel(self) -> int:
        """Output elements."""
        return math.prod(self.out_shape)


def leaf_kind(module: nn.Module) -> str:
    """Return the ledger's kind of a leaf module."""
    kinds = ((nn.Conv2d, "conv"), (nn.Linear, "linear"), (nn.BatchNorm2d, "bn"), (nn.ReLU, "relu"),
             (nn.MaxPool2d, "pool"), (nn.AdaptiveAvgPool2d, "avgpool"), (nn.LocalResponseNorm, "lrn"),
             (nn.Dropout, "dropout"))  # fmt: skip
    return next((k for cls, k in kinds if isinstance(module, cls)), type(module).__name__)


def trace_leaves(model: nn.Module, x: torch.Tensor) -> list[Leaf]:
    """Run the model once and return its leaf modules in call order with their shapes."""
    leaves: list[Leaf] = []
    names = {m: n for n, m in model.named_modules()}

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        kind = leaf_kind(module)
        leaves.append(Leaf(names[module], kind, tuple(args[0].shape[1:]), tuple(out.shape[1:]), module))

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return leaves


# Per-layer extras over the analytic count, in each counter's own unit, by counter and layer kind.
# Each rule is f(leaf) -> the count the counter adds for that layer beyond analytic MACs.
def _bias(leaf: Leaf) -> int:
    return leaf.out_numel if leaf.module.bias is not None else 0


def _lrn_ptflops(leaf: Leaf) -> int:
    # F.local_response_norm: x.mul(x), avg_pool3d over the padded (C + size - 1) channel window,
    # .mul(alpha), .add(k); ptflops patches mul, add and avg_pool3d (counting its input) but not pow, div.
    c, h, w = leaf.in_shape
    return 3 * leaf.in_numel + (c + leaf.module.size - 1) * h * w


def _thop_adaptive(leaf: Leaf) -> float:
    # thop's count_adap_avgpool: (prod(in/out spatial ratio) + 1 division) per output element; a float.
    ratio = math.prod(i / o for i, o in zip(leaf.in_shape[1:], leaf.out_shape[1:]))
    return (ratio + 1) * leaf.out_numel


RULES: dict[str, dict[str, Callable[[Leaf], float]]] = {
    # fvcore 0.1.5, jit_handles.py: batchnorm_flop_jit (eval, affine: 2 per element),
    # adaptive_avg_pool2d = elementwise_flop_counter(1, 0) (1 per input element);
    # max_pool2d and LRN's elementwise ops have no handle; relu_ and dropout are in _IGNORED_OPS.
    "fvcore": {"bn": lambda lf: 2 * lf.in_numel, "avgpool": lambda lf: lf.in_numel},
    # torch.utils.flop_counter: only convolution and addmm (2 FLOPs per MAC, bias ignored).
    "FlopCounterMode": {},
    # thop 0.1.1 vision/basic_hooks.py: count_normalization 2 per element, x2 with affine;
    # count_adap_avgpool; ReLU, MaxPool2d and Dropout are zero_ops; LocalResponseNorm has no rule.
    "thop": {"bn": lambda lf: 4 * lf.in_numel, "avgpool": _thop_adaptive},
    # ptflops 0.7.5, pytorch backend: conv and linear count their bias, BatchNorm 2 per element
    # (affine); ReLU, max- and adaptive pooling are counted twice, by the module hook and again by
    # the patched torch.nn.functional call inside the module's forward.
    "ptflops": {"conv": _bias, "linear": lambda lf: lf.out_numel if lf.module.bias is not None else 0,
                "bn": lambda lf: 2 * lf.in_numel, "relu": lambda lf: 2 * lf.out_numel,
                "pool": lambda lf: 2 * lf.in_numel, "avgpool": lambda lf: 2 * lf.in_numel, "lrn": _lrn_ptflops},
    # torchinfo 1.8.0: mult-adds of conv and linear include the bias; other layers count their parameters.
    "torchinfo": {"conv": _bias, "linear": lambda lf: lf.out_numel if lf.module.bias is not None else 0,
                  "bn": lambda lf: sum(p.numel() for p in lf.module.parameters())},
}  # fmt: skip
FLOP_FACTOR = {"FlopCounterMode": 2}  # counts FLOPs: 1 multiply-add = 2 FLOPs
OPTIONAL = {"thop": "thop", "ptflops": "ptflops", "torchinfo": "torchinfo"}  # counter -> module to import


@dataclass(frozen=True)
class LedgerRow:
    """One counter's whole-model count, reconciled with the analytic MACs."""

    counter: str
    reported: float  # in the counter's own unit
    unit: str  # MACs | FLOPs
    macs: float  # reported / the FLOP factor
    diff: float  # macs - analytic
    attributed: tuple[tuple[str, float], ...]  # (op, extra MACs) explaining diff
    unattributed: float  # diff - sum(attributed): 0 when the counter's convention is understood
    skipped: tuple[str, ...]  # ops or layers the counter counts as 0


def installed_counters() -> tuple[str, ...]:
    """Return the counters importable here, in ledger order."""
    optional = [c for c, mod in OPTIONAL.items() if importlib.util.find_spec(mod) is not None]
    return ("analytic", "fvcore", "FlopCounterMode", *optional)


def compute_ledger(spec: ArchSpec, input_size: int) -> list[LedgerRow]:
    """Count the spec's network at batch 1 with every installed counter and reconcile each."""
    model = create_model(spec).eval()
    x = torch.randn(1, spec.in_channels, input_size, input_size)
    leaves = trace_leaves(model, x)
    analytic = sum(r.macs for r in layer_table(spec, input_size))
    rows = [LedgerRow("analytic", analytic, "MACs", analytic, 0, (), 0, _zero_kinds(leaves, "analytic"))]
    for counter in installed_counters()[1:]:
        reported, skipped = _COUNT[counter](spec, model, x)
        rows.append(_reconcile(counter, reported, analytic, leaves, skipped))
    return rows


def _reconcile(counter: str, reported: float, analytic: int, leaves: list[Leaf], skipped: tuple) -> LedgerRow:
    factor = FLOP_FACTOR.get(counter, 1)
    macs = reported / factor
    extras: dict[str, float] = {}
    for leaf in leaves:
        rule = RULES[counter].get(leaf.kind)
        if rule is not None and rule(leaf):
            label = KIND_NAMES.get(leaf.kind, leaf.kind) + (" bias" if leaf.kind in ("conv", "linear") else "")
            extras[label] = extras.get(label, 0) + rule(leaf) / factor
    attributed = tuple(extras.items())
    if factor != 1:  # the factor is an attribution too: FLOPs vs MACs
        attributed = (("FLOPs = 2 x MACs", reported - macs), *attributed)
    diff = macs - analytic
    unattributed = diff - sum(v for _, v in extras.items())
    skipped = tuple(dict.fromkeys(skipped + _zero_kinds(leaves, counter)))
    return LedgerRow(counter, reported, "FLOPs" if factor != 1 else "MACs", macs, diff, attributed, unattributed,
                     skipped)  # fmt: skip


def _zero_kinds(leaves: list[Leaf], counter: str) -> tuple[str, ...]:
    """Name the layer kinds present that the counter counts as 0 (conv and linear are always counted)."""
    rules = RULES.get(counter, {})
    kinds = dict.fromkeys(lf.kind for lf in leaves if lf.kind not in ("conv", "linear") and lf.kind not in rules)
    return tuple(f"{KIND_NAMES.get(k, k)} (0)" for k in kinds)


def _fvcore(spec: ArchSpec, model: nn.Module, x: torch.Tensor) -> tuple[float, tuple[str, ...]]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)  # fvcore scripts a loss on import
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
        total = analysis.total()
    return float(total), tuple(f"{op} (unsupported)" for op in sorted(analysis.unsupported_ops()))


def _flop_counter_mode(spec: ArchSpec, model: nn.Module, x: torch.Tensor) -> tuple[float, tuple[str, ...]]:
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import FlopCounterMode

    seen: set = set()

    class Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204 (torch's API)
            seen.add(func.overloadpacket)
            return func(*args, **(kwargs or {}))

    counter = FlopCounterMode(display=False)
    with counter, Record(), torch.no_grad():
        model(x)
    names = {str(op) for op in seen - set(counter.flop_registry)} - _NO_ARITHMETIC
    return float(counter.get_total_flops()), tuple(f"{n} (no formula)" for n in sorted(names))


def _quiet(fn: Callable[[], object]) -> object:
    """Run a counter that prints to stdout, silently."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _thop(spec: ArchSpec, model: nn.Module, x: torch.Tensor) -> tuple[float, tuple[str, ...]]:
    import thop

    fresh = create_model(spec).eval()  # thop leaves total_ops buffers on the model it profiles
    macs, _ = _quiet(lambda: thop.profile(fresh, (x,), verbose=False))
    return float(macs), ()


def _ptflops(spec: ArchSpec, model: nn.Module, x: torch.Tensor) -> tuple[float, tuple[str, ...]]:
    import ptflops

    fresh = create_model(spec).eval()
    macs, _ = _quiet(lambda: ptflops.get_model_complexity_info(
        fresh, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False, backend="pytorch"))  # fmt: skip
    return float(macs), ()


def _torchinfo(spec: ArchSpec, model: nn.Module, x: torch.Tensor) -> tuple[float, tuple[str, ...]]:
    import torchinfo

    fresh = create_model(spec).eval()
    stats = _quiet(lambda: torchinfo.summary(fresh, input_data=x, verbose=0))
    return float(stats.total_mult_adds), ()


_COUNT = {"fvcore": _fvcore, "FlopCounterMode": _flop_counter_mode, "thop": _thop, "ptflops": _ptflops,
          "torchinfo": _torchinfo}  # fmt: skip


def per_layer_counts(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, int]]:
    """Return {leaf name: (fvcore count with vggablate's handlers, FlopCounterMode FLOPs)} for one input."""
    from torch.utils.flop_counter import FlopCounterMode

    from vggablate.measure.counts import fvcore_analyses

    flops, _ = fvcore_analyses(model, x)
    by_module = flops.by_module()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    fcm = counter.get_flop_counts()
    root = type(model).__name__
    out = {}
    for name, module in model.named_modules():
        if name and not list(module.children()):
            out[name] = (int(by_module.get(name, 0)), int(sum(fcm.get(f"{root}.{name}", {}).values())))
    return out
