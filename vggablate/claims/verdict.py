"""Verdicts on comparisons of multi-seed results, computed from the data every time.

A claim "b beats a" holds when the 95% CI of mean(b) - mean(a) lies above 0, is contradicted when
it lies below 0, and is inconclusive when it straddles 0. The CI is Welch's, or, when both sides
ran the same seeds, Student's on the per-seed differences: a seed fixes the batch order and the
random shifts for every arch (vggablate.data.loader), so the two runs of a seed share that part of
their luck and its difference cancels it (a paired, or blocked, design). A claim "b does
not beat a" (A-LRN vs A; 19 vs 16 layers) is a non-superiority test: it holds when the CI's
upper end is below a margin (a gain smaller than the margin is no gain), is contradicted when
the CI lies entirely above 0 (b is significantly better), and is inconclusive otherwise.
An inconclusive verdict says what budget would likely resolve it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from vggablate.claims.design import MAX_SEEDS, pairs_for_power, seeds_for_power
from vggablate.stats import DiffCI, MeanCI, mean_ci, paired_diff_ci, welch_diff_ci
from vggablate.training.convergence import UNCONVERGED, is_unconverged

HOLDS, CONTRADICTED, INCONCLUSIVE = "holds", "contradicted", "inconclusive at this budget"
NO_GAIN_MARGIN = 0.5  # top-1 percentage points: a smaller gain counts as "no gain"
NOT_LEARNED_MARGIN = 5.0  # top-1 points above chance: two archs both below it have not learned anything
CEILING = 98.0  # top-1 (%): two archs both above it are at the data set's ceiling, not separated by it


@dataclass(frozen=True)
class Judgement:
    """Two sides of a claim, their CIs, the difference (b - a) and the verdict."""

    a: str
    b: str
    a_ci: MeanCI
    b_ci: MeanCI
    diff: DiffCI
    expect: str  # "b>a" or "b<=a"
    verdict: str  # what the CI reads: holds, contradicted or inconclusive
    advice: str  # what would resolve an inconclusive verdict; empty otherwise
    # Mean test top-1 gained over the last quarter of the epochs (vggablate.training.convergence); None: unknown.
    climb_a: float | None = None
    climb_b: float | None = None
    unconverged: bool | None = None  # either side still climbs by more than the CI's half-width

    @property
    def label(self) -> str:
        """The verdict as shown: an unconverged comparison says so first, its CI reading beside it."""
        return f"{UNCONVERGED} (reads: {self.verdict})" if self.unconverged else self.verdict


def seeds_needed(a: MeanCI, b: MeanCI, effect: float, diff: DiffCI | None = None) -> int | None:
    """Estimate the seeds per side for the 95% CI to exclude 0 (80% power) if the effect is real.

    Student-t quantiles (vggablate.claims.design): with few seeds the normal approximation asks for
    too few. A paired ``diff`` plans from the spread of the per-seed differences. Always more than
    the seeds already run, which did not resolve it.
    """
    if a.n < 2 or b.n < 2 or effect == 0 or math.isnan(a.std) or math.isnan(b.std):
        return None
    if diff is not None and diff.paired:
        if math.isnan(diff.sd_diff):
            return None
        return max(a.n + 1, b.n + 1, pairs_for_power(diff.sd_diff, effect) or 0)
    if a.std == 0 and b.std == 0:
        return max(a.n, b.n)
    return max(a.n + 1, b.n + 1, seeds_for_power(a.std, b.std, effect) or 0)


def judge(
    a_name: str,
    a: Sequence[float],
    b_name: str,
    b: Sequence[float],
    expect: str,
    margin: float = NO_GAIN_MARGIN,
    chance: float | None = None,
    paired: bool = False,
    climbs: tuple[float | None, float | None] = (None, None),
) -> Judgement:
    """Compare b against a (top-1 per seed) and compute the verdict for the expected direction.

    ``chance`` (top-1 of guessing, 100 / classes): when neither side rises above it, the budget
    taught neither arch anything and no claim about them can be judged. ``paired``: a[i] and b[i]
    ran with the same seed, so the CI is that of the per-seed differences. ``climbs``: each side's mean
    top-1 gain over the last quarter of its epochs; a side climbing by more than the difference's CI
    half-width marks the comparison unconverged, whatever its CI reads.
    """
    a_ci, b_ci = mean_ci(a), mean_ci(b)
    d = paired_diff_ci(a, b) if paired else welch_diff_ci(a, b)
    judged = _judge(a_name, a_ci, b_name, b_ci, d, expect, margin, chance)
    late = is_unconverged(list(climbs), (d.hi - d.lo) / 2)
    return replace(judged, climb_a=climbs[0], climb_b=climbs[1], unconverged=late)


def _judge(
    a_name: str, a_ci: MeanCI, b_name: str, b_ci: MeanCI, d: DiffCI, expect: str, margin: float, chance: float | None
) -> Judgement:
    if chance is not None and max(a_ci.mean, b_ci.mean) < chance + NOT_LEARNED_MARGIN:
        advice = f"neither arch learned (top-1 near chance, {chance:.0f}%): more epochs"
        return Judgement(a_name, b_name, a_ci, b_ci, d, expect, INCONCLUSIVE, advice)
    if expect == "b>a":
        verdict = HOLDS if d.lo > 0 else CONTRADICTED if d.hi < 0 else INCONCLUSIVE
        effect = d.diff
    elif expect == "b<=a":
        verdict = CONTRADICTED if d.lo > 0 else HOLDS if d.hi < margin else INCONCLUSIVE
        effect = margin
    else:
        raise ValueError(f"expect must be 'b>a' or 'b<=a', got {expect!r}")
    advice = ""
    if verdict == INCONCLUSIVE:
        if math.isnan(d.lo):
            advice = "needs at least 2 seeds per side (--seeds 3 or more)"
        else:
            n = seeds_needed(a_ci, b_ci, effect, d)
            # A budget at which the archs differ more (or spread less) needs fewer.
            how = "paired by seed" if d.paired else "Welch"
            about = f"over {MAX_SEEDS}" if n and n >= MAX_SEEDS else f"about {n}"  # the search's cap
            advice = f"{about} seeds per side ({how}, 80% power)" if n else "more seeds"
            if min(a_ci.mean, b_ci.mean) >= CEILING:
                advice = "both at the data set's ceiling: a harder one (--budget cifar) separates them; or " + advice
    return Judgement(a_name, b_name, a_ci, b_ci, d, expect, verdict, advice)


def combine_labels(parts: Sequence[Judgement]) -> str:
    """Combine a claim's parts as shown: unconverged when any part is, with the combined CI reading beside it."""
    verdict = combine([p.verdict for p in parts])
    return f"{UNCONVERGED} (reads: {verdict})" if any(p.unconverged for p in parts) else verdict


def combine(verdicts: Sequence[str]) -> str:
    """Combine the verdicts of a claim's parts: any contradiction contradicts, all must hold."""
    if any(v == CONTRADICTED for v in verdicts):
        return CONTRADICTED
    if verdicts and all(v == HOLDS for v in verdicts):
        return HOLDS
    return INCONCLUSIVE
