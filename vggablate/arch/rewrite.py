"""Rewrites of a spec: receptive-field-equivalent large kernels, and compute matching.

Large kernels: within a stage (convs between max-pools), a run of consecutive 3x3 convs
with equal channels is merged into larger convs of the same receptive field: n stacked
3x3 convs see 2n+1 pixels, so two become one 5x5 and three one 7x7. With a kernel cap K,
one merged conv absorbs at most (K-1)/2 of the 3x3 convs; a run that does not divide
evenly is split greedily from the stage's start and the remainder becomes one smaller
kernel at the stage's end (three 3x3 with cap 5 -> 5x5 then 3x3; four with cap 7 -> 7x7
then 3x3). Receptive field and the stage structure are preserved either way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from vggablate.arch.analysis import analyse
from vggablate.arch.spec import ArchSpec, Cfg, Layer, scale_cfg
from vggablate.errors import UsageError


def _runs(cfg: Cfg) -> list[list[Layer]]:
    """Split a cfg into runs of mergeable layers (equal-channel 3x3 convs) and the rest."""
    runs: list[list[Layer]] = []
    for layer in cfg:
        mergeable = layer.kind == "conv" and layer.kernel == 3
        if mergeable and runs and runs[-1][-1] == layer:
            runs[-1].append(layer)
        else:
            runs.append([layer])
    return runs


def merge_kernels(cfg: Cfg, cap: int) -> Cfg:
    """Merge stacked 3x3 convs into receptive-field-equivalent convs of kernel <= cap."""
    if cap < 3 or cap % 2 == 0:
        raise UsageError(f"kernel cap must be odd and >= 3, got {cap}")
    per_conv = (cap - 1) // 2  # 3x3 convs one merged conv can replace
    out: list[Layer] = []
    for run in _runs(cfg):
        layer, n = run[0], len(run)
        if layer.kind != "conv" or layer.kernel != 3:
            out.extend(run)
            continue
        while n > 0:
            take = min(per_conv, n)
            out.append(replace(layer, kernel=2 * take + 1))
            n -= take
    return tuple(out)


def large_kernel(spec: ArchSpec, cap: int, name: str | None = None) -> ArchSpec:
    """Return the spec with its 3x3 stacks merged into kernels of at most ``cap``."""
    return replace(
        spec,
        name=name or f"{spec.name}_k{cap}",
        cfg=merge_kernels(spec.cfg, cap),
        description=f"{spec.name} with 3x3 stacks merged into kernels <= {cap}x{cap} (same receptive field)",
    )


def _scaled(spec: ArchSpec, width: float) -> ArchSpec:
    return replace(spec, cfg=scale_cfg(spec.cfg, width))


def match_compute(
    spec: ArchSpec,
    reference: ArchSpec,
    by: Literal["macs", "params"] = "macs",
    input_size: int = 224,
    tol: float = 0.02,
    name: str | None = None,
) -> ArchSpec:
    """Scale a spec's conv widths so its conv MACs (or params) match the reference's within tol.

    Matching is on the conv stack (features) alone, which the head does not change; the
    scaled channels are baked into the cfg so that a later width multiplier still applies.
    """

    def measure(s: ArchSpec) -> int:
        t = analyse(s, input_size)
        return t.macs_conv if by == "macs" else t.params_conv

    target = measure(reference)
    lo, hi = 0.05, 8.0
    for _ in range(60):  # bisection: the conv cost grows monotonically with width
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if measure(_scaled(spec, mid)) < target else (lo, mid)
    best = min((_scaled(spec, w) for w in (lo, hi)), key=lambda s: abs(measure(s) / target - 1))
    ratio = measure(best) / target
    if abs(ratio - 1) > tol:
        raise UsageError(f"cannot match {spec.name} to {reference.name} within {tol:.0%} (best {ratio:.3f})")
    return replace(
        best,
        name=name or f"{spec.name}_cm",
        description=f"{spec.description or spec.name}; widths scaled x{(lo + hi) / 2:.3f} to match",
        matched=f"conv {by} to {reference.name} at {input_size}x{input_size}: ratio {ratio:.4f}",
    )
