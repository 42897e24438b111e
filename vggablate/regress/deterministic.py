"""The deterministic figures the project's own CI gates: params, MACs, conv layers and analytic memory.

They depend only on the code (the cfg grammar, the model builder, fvcore's counting rules and the
memory estimate), never on the machine, so any change is a real change: ``tests/test_baseline_gate.py``
recomputes them and compares with the committed ``results/baselines/ci.json`` (regenerate it with
``python -m bench baseline deterministic --to results/baselines/ci.json`` after an intended change).
"""

from __future__ import annotations

from dataclasses import replace

from vggablate.arch.archs import TORCHVISION_ARCHS
from vggablate.regress.baseline import COUNT_FIELDS, SETTING_FIELDS, Baseline, from_rows
from vggablate.schema import NOT_ANALYTIC

# fvcore counts the built network: a handful of archs that cover every layer type (BN, LRN,
# 1x1 convs, large kernels, compute-matched widths), at CIFAR size so tracing stays fast.
FVCORE_ARCHS = ("vgg11", "vgg11_bn", "vgg11_lrn", "vgg13_k5", "vgg16_c", "vgg19_k7_cm")
FVCORE_SIZE = 32
# torchvision's eight VGGs (TORCHVISION_ARCHS) at ImageNet size, from the analytic table (building them takes seconds).
STANDARD_SIZE = 224
MEMORY_SETTINGS = (("infer", 1), ("infer", 32), ("train", 1), ("train", 32))
# The analytic estimate depends on how the model runs (mode, batch size, precision), not on where.
MEMORY_FIELDS = tuple(k for k in SETTING_FIELDS if k not in NOT_ANALYTIC)


def deterministic_rows() -> list[dict]:
    """Return counts and analytic-memory rows for the gated archs and settings."""
    from vggablate.arch.factory import resolve_spec

    rows: list[dict] = []
    for name in FVCORE_ARCHS:
        spec = resolve_spec(name, head="gap", num_classes=10)
        rows += [_fvcore_counts(spec, FVCORE_SIZE)] + _memory_rows(spec, FVCORE_SIZE, ("fp32",))
    for name in TORCHVISION_ARCHS:
        spec = resolve_spec(name)
        rows += [_analytic_counts(spec, STANDARD_SIZE)] + _memory_rows(spec, STANDARD_SIZE, ("fp32", "bf16"))
    return rows


def deterministic_baseline() -> Baseline:
    """Return the deterministic figures as a baseline (no machine fingerprint: none is needed)."""
    return replace(from_rows(deterministic_rows(), source="deterministic"), machine={}, software={})


def _identity(spec, size: int, kind: str, fields: tuple[str, ...] = COUNT_FIELDS, **run: object) -> dict:
    """Return the schema's identity columns of a trial of this setting, only those the gate keys on."""
    from vggablate.run.trial import Trial, identity

    row = identity(Trial(spec, kind=kind, input_size=size, **run), timestamp="", duration_s=0.0)
    return {k: row[k] for k in fields}


def _fvcore_counts(spec, size: int) -> dict:
    from vggablate.measure.counts import measure_counts

    c = measure_counts(spec, size)
    return {**_identity(spec, size, "counts"), "params": c.params, "macs": c.macs, "conv_layers": c.conv_layers}


def _analytic_counts(spec, size: int) -> dict:
    from vggablate.arch.analysis import analyse

    t = analyse(spec, size)
    return {**_identity(spec, size, "counts"), "params": t.params, "macs": t.macs, "conv_layers": t.conv_layers}


def _memory_rows(spec, size: int, precisions: tuple[str, ...]) -> list[dict]:
    from vggablate.measure.latency import StepConfig
    from vggablate.measure.memory import estimate_memory

    rows = []
    for precision in precisions:
        for mode, bs in MEMORY_SETTINGS:
            cfg = StepConfig(mode=mode, batch_size=bs, input_size=size, precision=precision)
            est = estimate_memory(spec, cfg)
            setting = _identity(spec, size, "memory", MEMORY_FIELDS, mode=mode, batch_size=bs, precision=precision)
            rows.append({**setting, "mem_analytic_mb": est.total_mb, "mem_analytic_weights_mb": est.weights_mb,
                         "mem_analytic_activations_mb": est.activations_mb, "mem_analytic_grads_mb": est.grads_mb,
                         "mem_analytic_optimizer_mb": est.optimizer_mb})  # fmt: skip
    return rows
