"""Is a trained net still improving? The climb of its test top-1 over the last part of its budget.

A verdict between two nets means little while either is still climbing faster than the CI of their
difference is wide: one more epoch could reverse it (the clutter runs of issue 12: vgg16 gained 2.5
points over its last two of 16 epochs, and Kendall's tau between the 8- and 16-epoch rankings was
+0.20). The climb is read from a row's per-epoch curve, scored on the curve subset of the test split,
so it costs no extra evaluation. Never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

CLIMB_FRACTION = 0.25  # the climb is the gain over the last quarter of the epochs
UNCONVERGED = "unconverged at this budget"


def climb(curve: Sequence[Mapping[str, float]] | None, fraction: float = CLIMB_FRACTION) -> float | None:
    """Return the test top-1 gained over the last ``fraction`` of the epochs (points); None when unmeasurable.

    The start value is interpolated linearly between the curve points around epoch (1 - fraction) x
    the last epoch. None when the curve has fewer than two points or starts after that epoch (a
    one-epoch run's curve holds one point: it cannot say whether the net was still improving).
    """
    points = [(float(p["epoch"]), float(p["test_top1"])) for p in curve or () if _finite(p.get("test_top1"))]
    if len(points) < 2:
        return None
    last_epoch, last_top1 = points[-1]
    start = (1.0 - fraction) * last_epoch
    if start < points[0][0]:
        return None
    for (e0, t0), (e1, t1) in zip(points, points[1:]):
        if e0 <= start <= e1:
            at = t0 if e1 == e0 else t0 + (t1 - t0) * (start - e0) / (e1 - e0)
            return last_top1 - at
    return None


def row_climb(row: Mapping[str, object]) -> float | None:
    """Return a row's recorded climb, or compute it from its curve (rows written before the column existed)."""
    value = row.get("top1_climb")
    if _finite(value):
        return float(value)  # type: ignore[arg-type]
    curve = row.get("curve")
    return climb(curve) if isinstance(curve, list) else None


def mean_climb(climbs: Sequence[float | None]) -> float | None:
    """Return the mean climb over seeds; None when any seed's climb is unknown (nothing can be said then)."""
    if not climbs or any(c is None for c in climbs):
        return None
    return sum(climbs) / len(climbs)  # type: ignore[arg-type]


def is_unconverged(climbs: Sequence[float | None], half_width: float) -> bool | None:
    """Say whether either side still climbs by more than the difference's CI half-width; None when unknown."""
    if not climbs or any(c is None for c in climbs) or not _finite(half_width):
        return None
    return max(climbs) > half_width  # type: ignore[type-var]


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
