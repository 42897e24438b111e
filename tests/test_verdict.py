"""Verdict logic on constructed data: it must flip when the data flips."""

import pytest

from vggablate.verdict import CONTRADICTED, HOLDS, INCONCLUSIVE, combine, judge

LOW = [80.0, 80.5, 79.5, 80.2]
HIGH = [90.0, 90.4, 89.6, 90.1]
NOISY_LOW = [70.0, 90.0, 80.0]
NOISY_HIGH = [72.0, 92.0, 82.0]


def test_better_holds_and_flips():
    assert judge("a", LOW, "b", HIGH, "b>a").verdict == HOLDS
    assert judge("a", HIGH, "b", LOW, "b>a").verdict == CONTRADICTED


def test_better_inconclusive_with_overlap_and_advice():
    c = judge("a", NOISY_LOW, "b", NOISY_HIGH, "b>a")
    assert c.verdict == INCONCLUSIVE
    assert "seeds per side" in c.advice
    assert c.diff.lo < 0 < c.diff.hi


def test_advice_asks_for_more_seeds_than_were_run():
    # The cpu budget's vgg13 vs vgg13_k5_cm at 4 seeds: Δ +1.22 [-0.02, +2.45]. The normal
    # approximation asked for "about 4" (the seeds already run); Student-t with 80% power asks for more.
    c = judge("vgg13_k5_cm", [94.17, 94.03, 95.14, 93.75], "vgg13", [95.14, 94.58, 96.39, 95.83], "b>a")
    assert c.verdict == INCONCLUSIVE
    n = int(c.advice.split("about ")[1].split()[0])
    assert 5 <= n <= 12


def test_single_seed_is_inconclusive():
    c = judge("a", [80.0], "b", [90.0], "b>a")
    assert c.verdict == INCONCLUSIVE and "at least 2 seeds" in c.advice


def test_no_gain_claim():
    a = [80.0, 80.1, 80.05, 80.05]
    same = [80.05, 80.0, 80.1, 80.05]
    assert judge("a", a, "b", same, "b<=a").verdict == HOLDS
    assert judge("a", LOW, "b", HIGH, "b<=a").verdict == CONTRADICTED
    assert judge("a", HIGH, "b", LOW, "b<=a").verdict == HOLDS
    assert judge("a", NOISY_LOW, "b", NOISY_HIGH, "b<=a").verdict == INCONCLUSIVE


def test_combine():
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine([HOLDS, CONTRADICTED, INCONCLUSIVE]) == CONTRADICTED
    assert combine([]) == INCONCLUSIVE


def test_bad_expectation():
    with pytest.raises(ValueError):
        judge("a", LOW, "b", HIGH, "b>>a")


def test_archs_at_chance_are_inconclusive():
    at_chance = [10.0, 10.0, 10.3]
    c = judge("a", at_chance, "b", [9.8, 10.1, 10.0], "b<=a", chance=10.0)
    assert c.verdict == INCONCLUSIVE and "neither arch learned" in c.advice
    # One side learning is a result, not a failure of the budget.
    assert judge("a", at_chance, "b", HIGH, "b>a", chance=10.0).verdict == HOLDS


def test_ceiling_advice():
    c = judge("a", [99.2, 98.9, 99.5], "b", [99.4, 99.0, 98.8], "b>a")
    assert c.verdict == INCONCLUSIVE and "ceiling" in c.advice
