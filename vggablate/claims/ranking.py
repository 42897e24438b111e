"""Can a short run's ranking be trusted? Kendall's tau between two budgets' arch rankings, with a CI over seeds.

NAS-Bench-201 publishes 12- and 200-epoch results side by side for this question. Here the two
budgets are two run folders (e.g. ``bench claims`` at its budget and again with ``--epochs``
2-3x larger): each arch is ranked by its mean top-1 over seeds in each run, and tau measures how
far the rankings agree (1: same order, 0: unrelated, -1: reversed). Never imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau

BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0  # the CI is part of the result: the same rows always give the same interval


@dataclass(frozen=True)
class RankAgreement:
    """Kendall's tau-b of two rankings of the same archs, with its bootstrap 95% CI over seeds."""

    archs: tuple[str, ...]
    tau: float
    lo: float
    hi: float
    short_order: tuple[str, ...]  # best first
    long_order: tuple[str, ...]
    seeds_short: int  # fewest seeds of any arch in each run
    seeds_long: int


def _means(top1: Mapping[str, Sequence[float]], archs: Sequence[str]) -> np.ndarray:
    return np.array([float(np.mean(top1[a])) for a in archs])


def _order(archs: Sequence[str], means: np.ndarray) -> tuple[str, ...]:
    return tuple(archs[i] for i in np.argsort(-means, kind="stable"))


def _resampled_means(top1: Mapping[str, Sequence[float]], archs: Sequence[str], rng, n: int) -> np.ndarray:
    # Each arch's seeds resampled with replacement, independently: (n, len(archs)) means.
    cols = []
    for a in archs:
        seeds = np.asarray(top1[a], dtype=float)
        cols.append(seeds[rng.integers(0, len(seeds), (n, len(seeds)))].mean(axis=1))
    return np.stack(cols, axis=1)


def rank_agreement(
    short: Mapping[str, Sequence[float]], long: Mapping[str, Sequence[float]], samples: int = BOOTSTRAP_SAMPLES
) -> RankAgreement:
    """Compare the arch rankings of two budgets (top-1 per seed per arch) with Kendall's tau-b.

    The CI is a percentile bootstrap that resamples each arch's seeds in both runs (nested data that
    scipy.stats.bootstrap's one-sample-per-statistic interface does not express).
    """
    archs = sorted(a for a in short if a in long and len(short[a]) and len(long[a]))
    if len(archs) < 3:
        raise ValueError(f"Kendall's tau needs at least 3 archs in both runs, found {len(archs)}")
    ms, ml = _means(short, archs), _means(long, archs)
    tau = float(kendalltau(ms, ml).statistic)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    bs, bl = _resampled_means(short, archs, rng, samples), _resampled_means(long, archs, rng, samples)
    taus = np.array([kendalltau(a, b).statistic for a, b in zip(bs, bl)], dtype=float)
    lo, hi = np.nanpercentile(taus, [2.5, 97.5])
    return RankAgreement(
        tuple(archs), tau, float(lo), float(hi), _order(archs, ms), _order(archs, ml),
        min(len(short[a]) for a in archs), min(len(long[a]) for a in archs),
    )  # fmt: skip


def agreement_text(r: RankAgreement, short_label: str, long_label: str) -> str:
    """Describe the agreement in a few lines of markdown."""
    return (
        f"Kendall's tau-b = {r.tau:+.2f} [{r.lo:+.2f}, {r.hi:+.2f}] (95% bootstrap CI over seeds), "
        f"{len(r.archs)} archs, {r.seeds_short} vs {r.seeds_long} seeds per arch\n"
        f"- {short_label}: {' > '.join(r.short_order)}\n"
        f"- {long_label}: {' > '.join(r.long_order)}\n"
    )
