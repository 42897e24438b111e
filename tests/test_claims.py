"""The paper's claims: static claims exactly, accuracy verdicts from constructed data."""

from vggablate.claims.paper import (
    DOES_NOT_HOLD,
    LARGE_PAIRS,
    accuracy_claims,
    claim_archs,
    large_kernel_costs,
    per_layer_argument,
    static_checks,
)
from vggablate.claims.verdict import CONTRADICTED, HOLDS, INCONCLUSIVE
from vggablate.report.tables import large_kernel_pairs


def test_per_layer_argument_exact():
    rows = per_layer_argument(channels=512)
    assert [r.verdict for r in rows] == [HOLDS, HOLDS]
    assert rows[0].measured.startswith(f"{27 * 512**2:,} vs {49 * 512**2:,}")
    assert rows[1].measured.startswith(f"{18 * 512**2:,} vs {25 * 512**2:,}")


def test_large_kernel_costs_are_computed():
    rows = {r.title.split(":")[0]: r for r in large_kernel_costs()}
    vgg13 = rows["vgg13 vs vgg13_k5"]
    assert vgg13.verdict == HOLDS
    assert "9.40M vs 10.86M" in vgg13.measured and "ReLUs 10 vs 5" in vgg13.measured
    assert "not compute-matched" in vgg13.note and "(compute-matched)" in rows["vgg13 vs vgg13_k5_cm"].note
    # The per-stage picture is honest: only the C->C stage 5 favours the 3x3 stack.
    assert "lighter in [5]" in vgg13.note


def test_cost_pairs_are_the_registrys_and_the_reports():
    # claims.md's seven cost rows, as before the pairs were derived from archs.LARGE_KERNEL_BASE ...
    before = (("vgg13", "vgg13_k5"), ("vgg13", "vgg13_k5_cm"), ("vgg16", "vgg16_k5"), ("vgg16", "vgg16_k7"),
              ("vgg16", "vgg16_k7_cm"), ("vgg19", "vgg19_k5"), ("vgg19", "vgg19_k7"))  # fmt: skip
    assert LARGE_PAIRS == before
    # ... and the report pairs the same archs the same way.
    assert set(large_kernel_pairs([name for pair in LARGE_PAIRS for name in pair])) == set(LARGE_PAIRS)


def test_cost_verdict_flips_when_the_arithmetic_flips():
    # A "large kernel" that is a plain 3x3 net with fewer convs has fewer params: the claim does not hold.
    from vggablate.arch.registry import _ARCHS, register_arch
    from vggablate.arch.spec import ArchSpec, parse_cfg

    register_arch("test_fake_large")(lambda: ArchSpec("test_fake_large", parse_cfg("64,M,128,M,256,M,512,M,512,M")))
    try:
        (row,) = large_kernel_costs([("vgg13", "test_fake_large")])
        assert row.verdict == DOES_NOT_HOLD
    finally:
        _ARCHS.pop("test_fake_large")


def test_static_checks_against_reference(reference):
    rows = static_checks(reference)
    assert len(rows) == 6 + 8
    assert all(r.verdict == HOLDS for r in rows)
    broken = {**reference, "paper": {**reference["paper"], "table2_params_millions": {
        **reference["paper"]["table2_params_millions"], "D": 140}}}  # fmt: skip
    assert [r.verdict for r in static_checks(broken) if r.title.startswith("D ")] == [DOES_NOT_HOLD]


def _top1(better: str, worse: str, gap: float) -> dict[str, list[float]]:
    base = [80.0, 80.3, 79.8, 80.1]
    return {worse: base, better: [x + gap for x in base]}


def test_shallow_5x5_verdict_flips_with_data():
    rows, _ = accuracy_claims(_top1("vgg13", "vgg13_k5", 3.0), "test")
    assert [r.verdict for r in rows] == [HOLDS]
    rows, _ = accuracy_claims(_top1("vgg13_k5", "vgg13", 3.0), "test")
    assert [r.verdict for r in rows] == [CONTRADICTED]
    noisy = {"vgg13": [70.0, 90.0], "vgg13_k5": [71.0, 89.0]}
    rows, _ = accuracy_claims(noisy, "smoke")
    assert rows[0].verdict == INCONCLUSIVE and "budget: smoke" in rows[0].note


def test_archs_that_ran_the_same_seeds_are_compared_pairwise():
    k5 = {0: 93.8, 1: 94.7, 2: 95.2, 3: 94.3}
    b = {s: v + 0.5 + 0.05 * s for s, v in k5.items()}  # a steady +0.5..0.65 over a point of seed luck
    (row,), (comp,) = accuracy_claims({"vgg13_k5": k5, "vgg13": b}, "test")
    assert comp.diff.paired and row.verdict == HOLDS and "(paired by seed)" in row.measured
    (row,), (comp,) = accuracy_claims({"vgg13_k5": list(k5.values()), "vgg13": list(b.values())}, "test")
    assert not comp.diff.paired and row.verdict == INCONCLUSIVE and "(Welch)" in row.measured
    # Only one seed in common: nothing to pair, so Welch over every seed each side ran.
    (_,), (comp,) = accuracy_claims({"vgg13_k5": k5, "vgg13": {3: 95.0, 4: 95.1, 5: 94.9}}, "test")
    assert not comp.diff.paired and (comp.a_ci.n, comp.b_ci.n) == (4, 3)


def test_one_seed_prints_the_point_value_and_no_interval():
    (row,), _ = accuracy_claims({"vgg11": {0: 80.25}, "vgg11_lrn": {0: 80.0}}, "test")
    assert row.measured == (
        "vgg11 80.25 (1 seed: no interval) vs vgg11_lrn 80.00 (1 seed: no interval); diff -0.25 (1 seed: no interval)"
        "; climb unknown (a curve of fewer than 2 points) -> inconclusive at this budget"
    )
    # One side with one seed: that side and the difference have no interval; the other side keeps its own.
    (row,), _ = accuracy_claims({"vgg11": [80.0, 80.5, 80.25], "vgg11_lrn": [80.0]}, "test")
    assert "nan" not in row.measured and row.measured.startswith("vgg11 80.25±0.62 (n=3) vs vgg11_lrn 80.00 (1 seed")


def test_lrn_no_gain_claim():
    same = {"vgg11": [80.0, 80.1, 80.05, 80.05], "vgg11_lrn": [80.05, 80.0, 80.1, 80.05]}
    (row,), _ = accuracy_claims(same, "test")
    assert row.claim == "lrn" and row.verdict == HOLDS
    (row,), _ = accuracy_claims(_top1("vgg11_lrn", "vgg11", 2.0), "test")
    assert row.verdict == CONTRADICTED


def test_depth_combines_parts():
    top1 = {"vgg11": [80.0, 80.2, 79.9], "vgg13": [82.0, 82.1, 81.9], "vgg16": [84.0, 84.2, 83.9],
            "vgg19": [84.0, 84.1, 83.95]}  # fmt: skip
    (row,), comps = accuracy_claims(top1, "test")
    assert row.claim == "depth" and len(comps) == 3 and row.verdict == HOLDS
    top1["vgg16"] = [78.0, 78.2, 77.9]
    (row,), _ = accuracy_claims(top1, "test")
    assert row.verdict == CONTRADICTED


def test_claim_archs_cover_all_parts():
    names = claim_archs()
    assert {"vgg11", "vgg11_lrn", "vgg13", "vgg13_k5", "vgg13_k5_cm", "vgg16", "vgg16_c", "vgg19"} <= set(names)


def test_packaged_reference_is_the_shared_one(shared_reference):
    from vggablate.reference import load_reference

    assert load_reference() == shared_reference
