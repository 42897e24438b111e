"""Designing a claims budget: which nets it must train, and how many seeds a pilot's spread asks for.

Power analysis for a two-sided Welch comparison (Cohen 1988, ch. 2): to find an effect d between
two archs with per-seed standard deviations s_a and s_b, with 95% confidence and power 1 - beta,
each side needs about n = (z_0.975 + z_(1-beta))^2 (s_a^2 + s_b^2) / d^2 seeds, refined here with
Student-t quantiles at the n found. Never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from vggablate.training.recipe import default_train_config

POWER = 0.8  # the usual design target: 4 in 5 runs of the budget resolve a real effect of the pilot's size
MAX_SEEDS = 1000


@dataclass(frozen=True)
class PairDesign:
    """One planned comparison: the pilot's effect and spread, and the seeds per side they ask for."""

    a: str
    b: str
    effect: float  # mean(b) - mean(a) in the pilot, top-1 points
    sd_a: float
    sd_b: float
    n_pilot: int  # fewest pilot seeds of the two sides
    seeds: int | None  # per side for POWER; None when the pilot saw no effect or no spread


def bn_twin_duplicates(archs: Sequence[str]) -> list[str]:
    """Drop each ``X_bn`` whose plain ``X`` is also listed: a recipe with bn_twin trains both as one net."""
    names = set(archs)
    return [a for a in archs if not (a.endswith("_bn") and a.removesuffix("_bn") in names)]


def nets_to_train(archs: Sequence[str], dataset: str, device: str) -> list[str]:
    """Return the archs a claims sweep must train: without duplicate _bn twins where the recipe adds BatchNorm."""
    return bn_twin_duplicates(archs) if default_train_config(dataset, device).bn_twin else list(archs)


def seeds_for_power(sd_a: float, sd_b: float, effect: float, power: float = POWER) -> int | None:
    """Seeds per side for Welch's 95% CI to exclude 0 with the given power when the true effect is ``effect``."""
    # Welch's df lies between n - 1 and 2n - 2; equal spreads give 2n - 2.
    return _smallest_n(sd_a**2 + sd_b**2, effect, power, lambda n: 2 * n - 2)


def pairs_for_power(sd_diff: float, effect: float, power: float = POWER) -> int | None:
    """Seeds (pairs) for the paired 95% CI of the per-seed difference to exclude 0 with the given power."""
    return _smallest_n(sd_diff**2, effect, power, lambda n: n - 1)


def _smallest_n(var: float, effect: float, power: float, df) -> int | None:
    if effect == 0 or not math.isfinite(var) or var == 0:
        return None
    for n in range(2, MAX_SEEDS):  # the smallest n that meets its own t-based requirement
        if n >= (student_t.ppf(0.975, df(n)) + student_t.ppf(power, df(n))) ** 2 * var / effect**2:
            return n
    return MAX_SEEDS


def design(top1: Mapping[str, Sequence[float]], pairs: Sequence[tuple[str, str]]) -> list[PairDesign]:
    """Plan each (a, b) comparison from a pilot's top-1 per seed per arch; pairs missing an arch are skipped."""
    out = []
    for a, b in pairs:
        xa, xb = np.asarray(top1.get(a, []), float), np.asarray(top1.get(b, []), float)
        if len(xa) < 2 or len(xb) < 2:
            continue
        effect, sa, sb = float(xb.mean() - xa.mean()), float(xa.std(ddof=1)), float(xb.std(ddof=1))
        out.append(PairDesign(a, b, effect, sa, sb, min(len(xa), len(xb)), seeds_for_power(sa, sb, effect)))
    return out


def design_table(rows: Sequence[PairDesign]) -> str:
    """Render the designs as a markdown table."""
    lines = ["| a | b | pilot Δ top-1 (b - a) | sd a | sd b | pilot seeds | seeds per side for 80% power |",
             "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        seeds = "-" if r.seeds is None else (f">= {MAX_SEEDS}" if r.seeds >= MAX_SEEDS else str(r.seeds))
        lines.append(f"| {r.a} | {r.b} | {r.effect:+.2f} | {r.sd_a:.2f} | {r.sd_b:.2f} | {r.n_pilot} | {seeds} |")
    return "\n".join(lines) + "\n"
