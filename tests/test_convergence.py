"""The climb of a curve, the unconverged label on verdicts, and the report's no-ranking note."""

import math

import pandas as pd
import pytest

from vggablate.claims.paper import accuracy_claims
from vggablate.claims.verdict import CONTRADICTED, HOLDS, judge
from vggablate.report.summary import accuracy_note
from vggablate.training.convergence import UNCONVERGED, climb, is_unconverged, mean_climb, row_climb


def curve(*top1: float) -> list[dict]:
    return [{"epoch": float(i + 1), "train_loss": 1.0, "test_top1": t} for i, t in enumerate(top1)]


def test_climb_is_the_gain_over_the_last_quarter():
    # 8 epochs: the last quarter starts at epoch 6.
    assert climb(curve(10, 20, 30, 40, 50, 60, 70, 80)) == pytest.approx(20.0)
    # 2 epochs: the quarter starts at 1.5, halfway between the two points.
    assert climb(curve(80, 90)) == pytest.approx(5.0)
    assert climb(curve(90, 90, 90, 90)) == pytest.approx(0.0)
    assert climb(curve(90, 91, 92, 89)) == pytest.approx(89 - 92)  # the quarter starts at epoch 3


def test_climb_is_unknown_from_one_point():
    assert climb(curve(80)) is None and climb([]) is None and climb(None) is None
    # A curve whose first point comes after the quarter's start cannot say what happened before it.
    assert climb([{"epoch": 7.0, "test_top1": 70.0}, {"epoch": 8.0, "test_top1": 80.0}]) is None


def test_row_climb_prefers_the_column_and_falls_back_to_the_curve():
    assert row_climb({"top1_climb": 1.5, "curve": curve(1, 2, 3, 4)}) == 1.5
    assert row_climb({"top1_climb": math.nan, "curve": curve(10, 20, 30, 40)}) == pytest.approx(10.0)
    assert row_climb({}) is None


def test_unconverged_compares_the_climb_with_the_half_width():
    assert is_unconverged([0.2, 1.1], half_width=1.0) is True
    assert is_unconverged([0.2, 0.9], half_width=1.0) is False
    assert is_unconverged([0.2, None], half_width=1.0) is None
    assert is_unconverged([0.2, 0.3], half_width=math.nan) is None
    assert mean_climb([1.0, 3.0]) == 2.0 and mean_climb([1.0, None]) is None


A = {0: 90.0, 1: 90.5, 2: 91.0}
B = {0: 92.0, 1: 92.4, 2: 93.1}  # clearly above A, paired by seed


def test_flipping_the_curves_flips_the_label():
    flat = judge("a", list(A.values()), "b", list(B.values()), "b>a", paired=True, climbs=(0.1, 0.2))
    rising = judge("a", list(A.values()), "b", list(B.values()), "b>a", paired=True, climbs=(0.1, 3.0))
    assert flat.verdict == rising.verdict == HOLDS  # the CI reads the same either way
    assert flat.unconverged is False and flat.label == HOLDS
    assert rising.unconverged is True and rising.label == f"{UNCONVERGED} (reads: {HOLDS})"


def test_claims_show_the_climb_and_the_label():
    top1 = {"vgg13": B, "vgg16": A}  # deeper is worse: contradicted, unless vgg16 is still climbing
    flat = {"vgg13": dict.fromkeys(B, 0.1), "vgg16": dict.fromkeys(A, 0.2)}
    rising = {"vgg13": dict.fromkeys(B, 0.1), "vgg16": dict.fromkeys(A, 2.5)}
    (row,), _ = accuracy_claims(top1, "test", climbs=flat)
    assert row.verdict == CONTRADICTED and "vgg16 +0.20" in row.measured
    (row,), (comp,) = accuracy_claims(top1, "test", climbs=rising)
    assert row.verdict == f"{UNCONVERGED} (reads: {CONTRADICTED})"
    assert "vgg16 +2.50 pts" in row.measured and "--until-stable" in row.note
    (row,), _ = accuracy_claims(top1, "test")
    assert row.verdict == CONTRADICTED and "climb unknown" in row.measured


def acc_rows(curves: dict[str, list[list[float]]]) -> pd.DataFrame:
    rows = []
    for arch, seeds in curves.items():
        for seed, c in enumerate(seeds):
            rows.append({"kind": "accuracy", "arch": arch, "seed": seed, "dataset": "d", "top1": c[-1],
                         "error": None, "curve": curve(*c)})  # fmt: skip
    return pd.DataFrame(rows)


def test_report_says_one_rising_seed_carries_no_ranking():
    note = accuracy_note(acc_rows({"vgg11": [[50, 70, 80, 81]], "vgg16": [[20, 40, 60, 70]]}))
    assert "One seed, still improving" in note and "no ranking" in note and "bench claims" in note
    assert "vgg16 +10.0 pts" in note
    flat = accuracy_note(acc_rows({"vgg11": [[80, 81, 81, 81]], "vgg16": [[70, 71, 71, 71]]}))
    assert "still improving" not in flat.lower()
    several = accuracy_note(
        acc_rows({"vgg11": [[50, 70, 80, 81], [50, 70, 80, 82]], "vgg16": [[20, 40, 60, 70], [20, 40, 60, 71]]})
    )
    assert "Still improving" in several and "--until-stable" in several


def test_settle_advice_names_the_next_budget(tmp_path):
    import json

    from vggablate.claims.budgets import judge_run, settle_advice

    rows = []
    for arch, top1, late in (("vgg13", 92.0, 0.1), ("vgg16", 91.0, 3.0)):
        for seed in range(3):
            c = curve(80, 85, top1 - late, top1 + seed * 0.1)  # the last quarter gains late (+ seed/10)
            rows.append({"trial_id": f"{arch}{seed}", "attempt": 0, "kind": "accuracy", "arch": arch, "seed": seed,
                         "top1": top1 + seed * 0.1, "epochs": 4.0, "train_time_s": 30.0, "num_classes": 10,
                         "curve": c, "error": None})  # fmt: skip
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    judged = judge_run(tmp_path, "test")
    (depth,) = [r for r in judged.claims if r.claim == "depth"]
    assert depth.verdict.startswith(UNCONVERGED)
    assert "vgg13 vs vgg16" in judged.advice and "8 epochs" in judged.advice and "about 6 min" in judged.advice
    assert settle_advice(judged.rows, judged.comparisons) == judged.advice
    assert settle_advice(judged.rows, [c for c in judged.comparisons if not c.unconverged]) == ""
