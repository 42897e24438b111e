"""Verdict logic on constructed data: it must flip when the data flips."""

import pytest

from vggablate.claims.verdict import CONTRADICTED, HOLDS, INCONCLUSIVE, combine, judge

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


def test_paired_by_seed_decides_what_welch_cannot_and_flips():
    # Seed luck shared by both archs (same batches and shifts): it spreads each side by about a
    # point, but b - a is steady at +0.5, as vgg13_k5 -> vgg13 on the cpu budget.
    a = [93.8, 94.7, 95.2, 94.3, 93.1, 94.9]
    up = [x + d for x, d in zip(a, [0.5, 0.6, 0.4, 0.55, 0.45, 0.5])]
    assert judge("a", a, "b", up, "b>a").verdict == INCONCLUSIVE
    c = judge("a", a, "b", up, "b>a", paired=True)
    assert c.verdict == HOLDS and c.diff.paired and c.diff.lo > 0
    down = [2 * x - y for x, y in zip(a, up)]
    assert judge("a", a, "b", down, "b>a", paired=True).verdict == CONTRADICTED
    assert judge("a", a, "b", down, "b<=a", paired=True).verdict == HOLDS


def test_paired_advice_plans_from_the_per_seed_differences():
    a = [93.8, 94.7, 95.2]
    c = judge("a", a, "b", [94.5, 94.6, 95.6], "b>a", paired=True)
    assert c.verdict == INCONCLUSIVE and "paired by seed, 80% power" in c.advice
    assert int(c.advice.split("about ")[1].split()[0]) > 3


def test_advice_says_over_the_cap_rather_than_a_number_it_did_not_compute():
    c = judge("a", [60.0, 95.0, 30.0], "b", [90.0, 60.0, 35.0], "b<=a", paired=True)  # sd of b - a: 33
    assert c.verdict == INCONCLUSIVE and "over 1000 seeds per side" in c.advice


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
