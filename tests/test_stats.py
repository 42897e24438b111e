"""The statistics now come from scipy.stats; on fixed data they give the numbers the hand-written code gave."""

import math

import numpy as np
import pytest

from vggablate.regress.noise import LatencyRule, bootstrap_ratio_ci
from vggablate.stats import DiffCI, MeanCI, mean_ci, paired_diff_ci, welch_diff_ci

NAN = math.nan
# Printed by the hand-written Student-t / Welch code (commit d55f25e) on the same inputs.
WELCH = [
    (([90.0, 92.0, 94.0], [95.0, 96.5, 99.0, 97.0]),
     DiffCI(4.875, 0.8893911410238067, 8.860608858976192, 3.8912830727926218, 0.027620472534853897, 0.95)),
    (([10.0] * 3, [10.0] * 3), DiffCI(0.0, 0.0, 0.0, math.inf, 1.0, 0.95)),
    (([10.0] * 3, [11.0] * 2), DiffCI(1.0, 1.0, 1.0, math.inf, 0.0, 0.95)),
    (([50.0], [60.0, 61.0]), DiffCI(10.5, NAN, NAN, NAN, NAN, 0.95)),
    (([1.5, 2.5, 2.0, NAN], [3.0, 2.9, 3.4]),
     DiffCI(1.1, 0.06804251382519722, 2.131957486174803, 3.038575667655786, 0.04265081325796219, 0.95)),
]  # fmt: skip
MEANS = [
    (([90.0, 92.0, 94.0], 0.95), MeanCI(3, 92.0, 2.0, 87.03172457649934, 96.96827542350066, 0.95)),
    (([1.0], 0.95), MeanCI(1, 1.0, NAN, NAN, NAN, 0.95)),
    (([], 0.95), MeanCI(0, NAN, NAN, NAN, NAN, 0.95)),
    (([3.0, NAN, 5.0, None], 0.95), MeanCI(2, 4.0, 1.4142135623730951, -8.706204736174694, 16.706204736174694, 0.95)),
    (([1.0, 2.0, 4.0, 8.0], 0.9), MeanCI(4, 3.75, 3.095695936834452, 0.10735118849461323, 7.392648811505387, 0.9)),
]  # fmt: skip


def same(a, b) -> bool:
    return all(x == pytest.approx(y, rel=1e-12, nan_ok=True) for x, y in zip(vars(a).values(), vars(b).values()))


@pytest.mark.parametrize(("args", "expected"), WELCH)
def test_welch_matches_the_hand_written_formula(args, expected):
    assert same(welch_diff_ci(*args), expected)


@pytest.mark.parametrize(("args", "expected"), MEANS)
def test_mean_ci_matches_the_hand_written_formula(args, expected):
    assert same(mean_ci(*args), expected)


def test_constant_samples_have_a_point_ci_and_no_warning():
    # Every seed at chance (10.00 twice): scipy's t-test warned of "precision loss" on the terminal.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mean_ci([10.0, 10.0]) == MeanCI(2, 10.0, 0.0, 10.0, 10.0, 0.95)
        assert mean_ci([10.0, 10.0, 12.0]).half_width > 0


def hand_written_bootstrap(old, new, rule):
    """The numpy percentile bootstrap that scipy.stats.bootstrap replaced."""
    rng = np.random.default_rng(rule.seed)
    q_old = np.quantile(old[rng.integers(0, old.size, (rule.resamples, old.size))], rule.quantile, axis=1)
    q_new = np.quantile(new[rng.integers(0, new.size, (rule.resamples, new.size))], rule.quantile, axis=1)
    tail = (1 - rule.level) / 2 * 100
    return tuple(float(v) for v in np.percentile(q_new / q_old, [tail, 100 - tail]))


@pytest.mark.parametrize("rule", [LatencyRule(), LatencyRule(quantile=0.5, level=0.9, resamples=500, seed=3)])
def test_scipy_bootstrap_draws_the_same_resamples(rule):
    rng = np.random.default_rng(1)
    old = rng.gamma(5.0, 1.0, 80) + 10
    new = old[:60] * 1.05 + rng.normal(0, 0.1, 60)
    assert bootstrap_ratio_ci(old, new, rule) == pytest.approx(hand_written_bootstrap(old, new, rule), rel=1e-12)


def test_paired_ci_is_the_t_interval_of_the_per_seed_differences():
    a, b = [94.77, 94.72, 94.32, 94.90, 93.80], [94.25, 93.87, 94.15, 94.36, 93.11]
    d = np.subtract(b, a)
    half = 2.7764451051977987 * d.std(ddof=1) / math.sqrt(5)  # t(0.975, 4)
    ci = paired_diff_ci(a, b)
    assert ci.paired and ci.df == 4 and ci.sd_diff == pytest.approx(d.std(ddof=1))
    assert (ci.diff, ci.lo, ci.hi) == pytest.approx((d.mean(), d.mean() - half, d.mean() + half))
    # The same numbers unpaired: Welch's CI is wider, since it keeps the seeds' shared luck.
    w = welch_diff_ci(a, b)
    assert w.diff == pytest.approx(ci.diff) and w.hi - w.lo > ci.hi - ci.lo and not w.paired


def test_paired_ci_drops_incomplete_pairs_and_refuses_unequal_lengths():
    ci = paired_diff_ci([1.0, None, 3.0, 4.0], [2.0, 5.0, NAN, 6.0])
    assert ci.diff == pytest.approx(1.5) and ci.df == 1
    assert math.isnan(paired_diff_ci([1.0, 2.0], [2.0, None]).lo)
    assert paired_diff_ci([1.0, 2.0], [2.0, 3.0]).lo == 1.0  # constant differences: exact
    with pytest.raises(ValueError, match="same length"):
        paired_diff_ci([1.0, 2.0], [1.0])
