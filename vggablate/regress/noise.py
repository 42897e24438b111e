"""Noise-aware comparison of two latency samples: a bootstrap CI of a ratio of quantiles plus Mann-Whitney U.

A change is significant when the bootstrap CI of q(new) / q(old) excludes 1 and the two-sided
Mann-Whitney U test agrees (p < 1 - level); it is a regression only when it is also larger than
a minimum effect (default 10%), so a real but small change (a 3% drift between two CI runners)
never fails a gate. The resampling RNG is seeded: the same samples give the same CI.

Which quantile: interference from other jobs only ever adds time (a preempted step is 2x, never
0.5x), so on a shared runner the distribution is the true step time plus a right tail whose
weight follows the load. The median sits inside that tail once about half the steps are
disturbed; the 10th percentile stays on the undisturbed steps while a code slowdown shifts it
like every other quantile. Measured on a shared 2-core machine (docs/benchmarks.md, "Regression
gate"): same samples, ratio of medians: A/A flagged 2/20, planted 20% slowdown 17/20; ratio of
10th percentiles: 0/20 and 20/20. ``quantile=0.5`` gives the ratio of medians.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

# Below this, neither the bootstrap of a median nor the rank test means much.
MIN_SAMPLES = 5


@dataclass(frozen=True)
class LatencyRule:
    """When a latency change counts as a regression (or an improvement)."""

    min_effect: float = 0.10  # smallest relative change worth failing a gate for
    quantile: float = 0.10  # which quantile is compared (0.5: medians); see the module docstring
    level: float = 0.95  # confidence of the bootstrap CI; the rank test uses alpha = 1 - level
    resamples: int = 2000  # bootstrap resamples: the CI bounds move < 0.5% between seeds at 2000
    seed: int = 0  # fixed, so a comparison is reproducible


@dataclass(frozen=True)
class LatencyChange:
    """Old vs new latency samples: the compared quantile, the ratio's CI, the rank test and the verdict."""

    n_old: int
    n_new: int
    quantile: float
    old: float  # the quantile of the old samples
    new: float
    median_old: float  # reported beside the compared quantile
    median_new: float
    ratio: float  # q(new) / q(old)
    ratio_lo: float  # bootstrap percentile CI of the ratio
    ratio_hi: float
    p_value: float  # two-sided Mann-Whitney U
    significant: bool
    status: str  # regressed | improved | ok


def bootstrap_ratio_ci(old: np.ndarray, new: np.ndarray, rule: LatencyRule) -> tuple[float, float]:
    """Return the percentile bootstrap CI of q(new) / q(old), each side resampled alone (scipy.stats.bootstrap)."""

    def ratio(o: np.ndarray, n: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.quantile(n, rule.quantile, axis=axis) / np.quantile(o, rule.quantile, axis=axis)

    rng = np.random.default_rng(rule.seed)
    res = _st.bootstrap((old, new), ratio, n_resamples=rule.resamples, confidence_level=rule.level,
                        method="percentile", vectorized=True, rng=rng)  # fmt: skip
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def compare_latency(old: Sequence[float], new: Sequence[float], rule: LatencyRule = LatencyRule()) -> LatencyChange:
    """Compare two samples of step times (any one unit); raise ValueError with fewer than MIN_SAMPLES."""
    a, b = _clean(old), _clean(new)
    if min(a.size, b.size) < MIN_SAMPLES:
        raise ValueError(f"too few latency samples ({a.size} old, {b.size} new; need >= {MIN_SAMPLES} each)")
    q_a, q_b = float(np.quantile(a, rule.quantile)), float(np.quantile(b, rule.quantile))
    ratio = q_b / q_a
    lo, hi = bootstrap_ratio_ci(a, b, rule)
    p = _mann_whitney_p(a, b)
    significant = (lo > 1 or hi < 1) and p < 1 - rule.level
    if significant and lo > 1 and ratio > 1 + rule.min_effect:
        status = "regressed"
    elif significant and hi < 1 and ratio < 1 - rule.min_effect:
        status = "improved"
    else:
        status = "ok"
    med_a, med_b = float(np.median(a)), float(np.median(b))
    return LatencyChange(a.size, b.size, rule.quantile, q_a, q_b, med_a, med_b, ratio, lo, hi, p, significant, status)


def _clean(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray([float(v) for v in values if v is not None], dtype=np.float64)
    return arr[np.isfinite(arr) & (arr > 0)]


def _mann_whitney_p(a: np.ndarray, b: np.ndarray) -> float:
    if np.array_equal(np.sort(a), np.sort(b)):
        return 1.0  # identical samples: scipy's normal approximation would still be fine, but be exact
    p = float(_st.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return p if math.isfinite(p) else 1.0
