"""Small-sample statistics for multi-seed results: Student-t CIs and Welch's difference CI."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(xs)
    if n == 0:
        return MeanCI(0, math.nan, math.nan, math.nan, math.nan, level)
    mean = sum(xs) / n
    if n < 2:
        return MeanCI(n, mean, math.nan, math.nan, math.nan, level)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = float(_st.t.ppf(0.5 + level / 2, n - 1)) * std / math.sqrt(n)
    return MeanCI(n, mean, std, mean - half, mean + half, level)


@dataclass(frozen=True)
class DiffCI:
    """Difference of means (b - a) with Welch's t confidence interval."""

    diff: float
    lo: float
    hi: float
    df: float
    p_value: float
    level: float


def welch_diff_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> DiffCI:
    """Return mean(b) - mean(a) with Welch's CI and two-sided p-value (nan when a side has n < 2)."""
    ca, cb = mean_ci(a, level), mean_ci(b, level)
    diff = cb.mean - ca.mean
    if ca.n < 2 or cb.n < 2:
        return DiffCI(diff, math.nan, math.nan, math.nan, math.nan, level)
    va, vb = ca.std**2 / ca.n, cb.std**2 / cb.n
    se = math.sqrt(va + vb)
    if se == 0:  # identical constant samples: the difference is exact
        return DiffCI(diff, diff, diff, math.inf, 0.0 if diff else 1.0, level)
    df = (va + vb) ** 2 / (va**2 / (ca.n - 1) + vb**2 / (cb.n - 1))
    half = float(_st.t.ppf(0.5 + level / 2, df)) * se
    p = 2 * float(_st.t.sf(abs(diff) / se, df))
    return DiffCI(diff, diff - half, diff + half, df, p, level)
