"""Small-sample statistics for multi-seed results: Student-t CIs, Welch's and paired difference CIs (scipy.stats)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st


@dataclass(frozen=True)
class MeanCI:
    """Mean of n samples with its sample std and a two-sided Student-t confidence interval."""

    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); nan for n < 2
    lo: float
    hi: float
    level: float

    @property
    def half_width(self) -> float:
        """Half the CI's width (nan when n < 2)."""
        return (self.hi - self.lo) / 2


def mean_ci(values: Sequence[float], level: float = 0.95) -> MeanCI:
    """Return the mean and Student-t CI of the values (nan bounds when n < 2)."""
    xs = _finite(values)
    if xs.size < 2:
        mean = float(xs.mean()) if xs.size else math.nan
        return MeanCI(xs.size, mean, math.nan, math.nan, math.nan, level)
    if np.ptp(xs) == 0:
        # Constant samples (every seed at chance, say): the CI is the point (scipy would warn of precision loss).
        return MeanCI(xs.size, float(xs[0]), 0.0, float(xs[0]), float(xs[0]), level)
    ci = _st.ttest_1samp(xs, 0.0).confidence_interval(level)
    return MeanCI(xs.size, float(xs.mean()), float(xs.std(ddof=1)), float(ci.low), float(ci.high), level)


@dataclass(frozen=True)
class DiffCI:
    """Difference of means (b - a) with Welch's (or, paired by seed, Student's) t confidence interval."""

    diff: float
    lo: float
    hi: float
    df: float
    p_value: float
    level: float
    paired: bool = False  # True: the CI of the mean per-seed difference (both sides ran the same seeds)
    sd_diff: float = math.nan  # paired only: the sample sd of the per-seed differences


def welch_diff_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> DiffCI:
    """Return mean(b) - mean(a) with Welch's CI and two-sided p-value (nan when a side has n < 2)."""
    xa, xb = _finite(a), _finite(b)
    diff = (float(xb.mean()) if xb.size else math.nan) - (float(xa.mean()) if xa.size else math.nan)
    if xa.size < 2 or xb.size < 2:
        return DiffCI(diff, math.nan, math.nan, math.nan, math.nan, level)
    if xa.var(ddof=1) == 0 and xb.var(ddof=1) == 0:
        # Constant samples: the difference is exact (scipy would divide by a zero standard error).
        return DiffCI(diff, diff, diff, math.inf, 0.0 if diff else 1.0, level)
    test = _st.ttest_ind(xb, xa, equal_var=False)
    ci = test.confidence_interval(level)
    return DiffCI(diff, float(ci.low), float(ci.high), float(test.df), float(test.pvalue), level)


def paired_diff_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> DiffCI:
    """Return mean(b - a) over pairs (a[i], b[i] ran with the same seed) with Student's t CI.

    A pair with a missing side (None or NaN) is left out; nan bounds with fewer than 2 pairs.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples need the same length, got {len(a)} and {len(b)}")
    keep = [(float(x), float(y)) for x, y in zip(a, b) if x is not None and y is not None]
    d = np.asarray([y - x for x, y in keep if not (math.isnan(x) or math.isnan(y))], dtype=np.float64)
    diff = float(d.mean()) if d.size else math.nan
    if d.size < 2:
        return DiffCI(diff, math.nan, math.nan, math.nan, math.nan, level, True)
    sd = float(d.std(ddof=1))
    if sd == 0:
        return DiffCI(diff, diff, diff, math.inf, 0.0 if diff else 1.0, level, True, 0.0)
    test = _st.ttest_1samp(d, 0.0)
    ci = test.confidence_interval(level)
    return DiffCI(diff, float(ci.low), float(ci.high), float(test.df), float(test.pvalue), level, True, sd)


def _finite(values: Sequence[float]) -> np.ndarray:
    """Return the values as floats, None and NaN left out (a failed seed has no top-1)."""
    xs = np.asarray([float(v) for v in values if v is not None], dtype=np.float64)
    return xs[~np.isnan(xs)]
