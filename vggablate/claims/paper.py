"""The VGG paper's claims (Simonyan & Zisserman, ICLR 2015) as experiments with computed verdicts.

Cost claims are exact arithmetic on the analytic tables (`holds` / `does not hold`); accuracy
claims compare multi-seed top-1 with a 95% CI, paired by seed where both sides ran the same seeds
(vggablate.claims.verdict). Nothing here is decided in advance: every verdict is computed from the rows
and specs it is given. Never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vggablate.arch.analysis import analyse, layer_table
from vggablate.arch.archs import LARGE_KERNEL_BASE, PAPER
from vggablate.arch.registry import get_arch
from vggablate.claims.verdict import HOLDS, Judgement, combine_labels, judge
from vggablate.stats import MeanCI
from vggablate.training.convergence import mean_climb

DOES_NOT_HOLD = "does not hold"
# The paper's configs by letter (A, A-LRN, B, C, D, E), from the one map in archs.py.
PAPER_CONFIG = {letter: name for name, letter in sorted(PAPER.items(), key=lambda item: item[1])}
# The large-kernel archs whose costs claims.md sets against their 3x3 originals (from archs.py's one map).
COST_ARCHS = ("vgg13_k5", "vgg13_k5_cm", "vgg16_k5", "vgg16_k7", "vgg16_k7_cm", "vgg19_k5", "vgg19_k7")
LARGE_PAIRS = tuple((LARGE_KERNEL_BASE[name], name) for name in COST_ARCHS)
# Paper's single-scale top-1 errors (Table 3, S=Q=256), for the "paper says" column.
PAPER_TOP1_ERR = {"A": 29.6, "A-LRN": 29.7, "B": 28.7, "C": 28.1, "D": 27.0, "E": 27.3}


@dataclass(frozen=True)
class ClaimRow:
    """One line of claims.md: the claim, the paper's figure, ours, and the verdict."""

    claim: str  # short id: cost_3x3, shallow_5x5, depth, lrn, one_by_one, static
    title: str
    source: str  # where in the paper
    paper: str  # what the paper says, with its figure
    measured: str  # what we measured, with numbers
    verdict: str
    note: str = ""  # caveats, or what budget would resolve an inconclusive verdict


def per_layer_argument(channels: int = 512) -> list[ClaimRow]:
    """Check Sect. 2.3's per-layer weight counts (27C^2 vs 49C^2, 18C^2 vs 25C^2) on our tables."""
    rows = []
    for n, k in ((3, 7), (2, 5)):
        stack = sum(r.params - r.out_channels for r in _stack_rows(channels, 3, n))
        single = sum(r.params - r.out_channels for r in _stack_rows(channels, k, 1))
        paper_stack, paper_single = 9 * n * channels**2, k * k * channels**2
        exact = stack == paper_stack and single == paper_single
        verdict = HOLDS if exact and stack < single else DOES_NOT_HOLD
        rows.append(ClaimRow(
            "cost_3x3", f"{n} stacked 3x3 vs one {k}x{k} (C={channels}, weights without bias)", "Sect. 2.3",
            f"{9 * n}C^2 vs {k * k}C^2 ({(k * k) / (9 * n) - 1:+.0%})",
            f"{stack:,} vs {single:,} ({single / stack - 1:+.1%})", verdict,
        ))  # fmt: skip
    return rows


def _stack_rows(channels: int, kernel: int, n: int):
    from vggablate.arch.spec import ArchSpec, parse_cfg

    spec = ArchSpec("stack", parse_cfg(f"{channels},M,{channels}k{kernel}x{n}"), head="gap")
    return [r for r in layer_table(spec, 32) if r.kind == "conv" and r.stage == 2]


def large_kernel_costs(pairs: Sequence[tuple[str, str]] = LARGE_PAIRS, input_size: int = 224) -> list[ClaimRow]:
    """Whole-model and per-stage params/MACs of 3x3 stacks against their large-kernel rewrites."""
    rows = []
    for small, large in pairs:
        a, b = analyse(get_arch(small), input_size), analyse(get_arch(large), input_size)
        pairs_s = list(zip(a.stage_params, b.stage_params))
        lighter = [i + 1 for i, (pa, pb) in enumerate(pairs_s) if pa < pb]
        heavier = [i + 1 for i, (pa, pb) in enumerate(pairs_s) if pa > pb]
        stages = "; ".join(f"s{i + 1} {pa / 1e6:.2f}M vs {pb / 1e6:.2f}M" for i, (pa, pb) in enumerate(pairs_s))
        note = f"GMACs {a.macs / 1e9:.2f} vs {b.macs / 1e9:.2f} at {input_size}x{input_size}"
        note += " (compute-matched)" if get_arch(large).matched else " (not compute-matched)"
        if heavier:
            note += (
                f"; per stage the 3x3 stack is lighter in {lighter or 'none'} and heavier in {heavier}: where a "
                "stage's first conv widens (RGB->C, C/2->C) Sect. 2.3's C->C argument does not apply"
            )
        rows.append(ClaimRow(
            "cost_3x3", f"{small} vs {large}: conv params", "Sect. 2.3",
            "3x3 stacks need fewer weights than one large kernel of the same receptive field",
            f"conv params {a.params_conv / 1e6:.2f}M vs {b.params_conv / 1e6:.2f}M; per stage: {stages}; "
            f"ReLUs {a.conv_layers} vs {b.conv_layers}",
            HOLDS if a.params_conv < b.params_conv else DOES_NOT_HOLD, note,
        ))  # fmt: skip
    return rows


def static_checks(reference: dict) -> list[ClaimRow]:
    """Our params against the paper's Table 2 (rounded) and torchvision's metadata (exact), and GMACs."""
    rows = []
    table2 = reference["paper"]["table2_params_millions"]
    for config, name in PAPER_CONFIG.items():
        ours = analyse(get_arch(name), 224).params
        ok = round(ours / 1e6) == table2[config]
        rows.append(ClaimRow("static", f"{config} ({name}) params", "Table 2", f"{table2[config]}M",
                             f"{ours:,} ({ours / 1e6:.1f}M)", HOLDS if ok else DOES_NOT_HOLD))  # fmt: skip
    for name, meta in reference["torchvision_imagenet1k_v1"]["models"].items():
        t = analyse(get_arch(name), 224)
        ok = t.params == meta["num_params"] and round(t.macs / 1e9, 3) == meta["gmacs"]
        rows.append(ClaimRow("static", f"{name} params and GMACs", "torchvision metadata",
                             f"{meta['num_params']:,}; {meta['gmacs']:.3f} GMACs",
                             f"{t.params:,}; {t.macs / 1e9:.3f} GMACs", HOLDS if ok else DOES_NOT_HOLD))  # fmt: skip
    return rows


TopOne = Mapping[str, Mapping[int, float] | Sequence[float]]  # arch -> top-1 by seed, or a plain list
TopClimb = Mapping[str, Mapping[int, float | None]]  # arch -> last-quarter climb by seed


def _climb(climbs: TopClimb, arch: str) -> float | None:
    by_seed = climbs.get(arch)
    return mean_climb(list(by_seed.values())) if by_seed else None


def _sides(top1: TopOne, a: str, b: str) -> tuple[list[float], list[float], bool]:
    """Return both sides' top-1, aligned by seed and paired when at least two seeds ran on both."""
    xa, xb = top1.get(a) or [], top1.get(b) or []
    if isinstance(xa, Mapping) and isinstance(xb, Mapping):
        common = sorted(set(xa) & set(xb))
        if len(common) >= 2:
            return [xa[s] for s in common], [xb[s] for s in common], True
    return _values(xa), _values(xb), False


def _values(x: Mapping[int, float] | Sequence[float]) -> list[float]:
    return list(x.values()) if isinstance(x, Mapping) else list(x)


NO_INTERVAL = "(1 seed: no interval)"


def _fmt(c: Judgement) -> str:
    d = c.diff
    how = "paired by seed" if d.paired else "Welch"
    # One seed has no spread, so no interval: print the point value, never "±nan".
    interval = NO_INTERVAL if math.isnan(d.lo) else f"[{d.lo:+.2f}, {d.hi:+.2f}] ({how})"
    return f"{_side(c.a, c.a_ci)} vs {_side(c.b, c.b_ci)}; diff {d.diff:+.2f} {interval}; {climb_text(c)}"


def _side(name: str, ci: MeanCI) -> str:
    if ci.n < 2 or math.isnan(ci.half_width):
        return f"{name} {ci.mean:.2f} {NO_INTERVAL}"
    return f"{name} {ci.mean:.2f}±{ci.half_width:.2f} (n={ci.n})"


def _advice(c: Judgement) -> str:
    late = "still climbing: a longer budget (bench claims --until-stable doubles the epochs)" if c.unconverged else ""
    return "; ".join(x for x in (late, c.advice) if x)


def climb_text(c: Judgement) -> str:
    """Describe both sides' climb over the last quarter of the epochs against the CI's half-width."""
    if c.climb_a is None or c.climb_b is None:
        return "climb unknown (a curve of fewer than 2 points)"
    half = (c.diff.hi - c.diff.lo) / 2
    width = "no CI half-width with 1 seed" if math.isnan(half) else f"CI half-width {half:.2f}"
    return f"last-quarter climb {c.a} {c.climb_a:+.2f}, {c.b} {c.climb_b:+.2f} pts ({width})"


# (claim id, title, source, paper says, comparisons (a, b, expect)); a missing arch skips the part.
ACCURACY_CLAIMS = (
    ("shallow_5x5", "stacked 3x3 beats one 5x5 (accuracy)", "Sect. 4.1",
     "B with each 3x3 pair replaced by one 5x5: top-1 error 7% higher than B",
     (("vgg13_k5", "vgg13", "b>a"), ("vgg13_k5_cm", "vgg13", "b>a"))),
    ("depth", "deeper is better, saturating at 19 layers", "Sect. 4.1, Table 3",
     "top-1 error A 29.6 > B 28.7 > D 27.0; E 27.3 (saturates)",
     (("vgg11", "vgg13", "b>a"), ("vgg13", "vgg16", "b>a"), ("vgg16", "vgg19", "b<=a"),
      ("vgg11_bn", "vgg13_bn", "b>a"), ("vgg13_bn", "vgg16_bn", "b>a"), ("vgg16_bn", "vgg19_bn", "b<=a"))),
    ("lrn", "LRN does not help", "Sect. 4.1, Table 3", "A-LRN 29.7 vs A 29.6 top-1 error: no gain",
     (("vgg11", "vgg11_lrn", "b<=a"),)),
    ("one_by_one", "1x1 convs beat none but lose to 3x3", "Sect. 4.1, Table 3",
     "C 28.1 better than B 28.7, worse than D 27.0 (top-1 error)",
     (("vgg13", "vgg16_c", "b>a"), ("vgg16_c", "vgg16", "b>a"))),
)  # fmt: skip


def accuracy_claims(
    top1: TopOne, budget: str, chance: float | None = None, climbs: TopClimb | None = None
) -> tuple[list[ClaimRow], list[Judgement]]:
    """Judge each accuracy claim from top-1 per seed per arch; return claim rows and the comparisons.

    With top-1 keyed by seed, two archs that ran the same seeds are compared pairwise (vggablate.claims.verdict).
    ``climbs`` (arch -> climb per seed, vggablate.training.convergence) marks comparisons whose nets still improve.
    """
    rows, comps = [], []
    climbs = climbs or {}
    for claim, title, source, paper, parts in ACCURACY_CLAIMS:
        here = [judge(a, xa, b, xb, expect, chance=chance, paired=paired,
                      climbs=(_climb(climbs, a), _climb(climbs, b)))
                for a, b, expect in parts if top1.get(a) and top1.get(b)
                for xa, xb, paired in [_sides(top1, a, b)]]  # fmt: skip
        if not here:
            continue
        comps.extend(here)
        verdict = combine_labels(here)
        advice = "; ".join(f"{c.a} vs {c.b}: {_advice(c)}" for c in here if c.advice or c.unconverged)
        rows.append(ClaimRow(claim, title, source, paper, "; ".join(f"{_fmt(c)} -> {c.verdict}" for c in here),
                             verdict, (f"budget: {budget}. " + advice) if advice else f"budget: {budget}"))  # fmt: skip
    return rows, comps


ACCURACY_CLAIM_IDS = tuple(c[0] for c in ACCURACY_CLAIMS)


def claim_archs(selected: tuple[str, ...] = ACCURACY_CLAIM_IDS) -> list[str]:
    """Every arch the selected accuracy claims compare, in the order they first appear."""
    names: list[str] = []
    for claim, *_, parts in ACCURACY_CLAIMS:
        if claim in selected:
            for a, b, _ in parts:
                names += [n for n in (a, b) if n not in names]
    return names
