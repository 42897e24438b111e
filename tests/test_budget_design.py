"""The cpu claims budget's design (nets, power analysis), its verdicts, and Kendall's tau between budgets."""

import json

import pytest

from bench.__main__ import main
from vggablate.claims.budgets import BUDGETS, claims_config
from vggablate.claims.design import (
    bn_twin_duplicates,
    design,
    design_table,
    nets_to_train,
    pairs_for_power,
    seeds_for_power,
)
from vggablate.claims.paper import accuracy_claims
from vggablate.claims.ranking import rank_agreement


def test_bn_twins_are_trained_once():
    assert bn_twin_duplicates(["vgg11", "vgg11_bn", "vgg13_bn", "vgg13_k5"]) == ["vgg11", "vgg13_bn", "vgg13_k5"]
    assert nets_to_train(["vgg11", "vgg11_bn"], "clutter", "cpu") == ["vgg11"]  # the recipe adds BatchNorm
    assert nets_to_train(["vgg11", "vgg11_bn"], "digits", "cpu") == ["vgg11", "vgg11_bn"]


def test_cpu_budget_trains_the_depth_and_kernel_nets_once_each():
    cfg = claims_config(BUDGETS["cpu"], {}, ("depth", "shallow_5x5"))
    assert cfg.dataset == "clutter" and cfg.device == "cpu" and cfg.seeds == BUDGETS["cpu"].seeds
    assert set(cfg.archs) == {"vgg11", "vgg13", "vgg16", "vgg19", "vgg13_k5", "vgg13_k5_cm"}
    assert claims_config(BUDGETS["smoke"], {}, ("depth",)).archs[-1] == "vgg19_bn"  # digits keeps both forms
    # Without --claims the cpu budget runs the two claims it was designed for; the smoke budget all four.
    assert set(claims_config(BUDGETS["cpu"], {}).archs) == set(cfg.archs) and cfg.epochs == 16
    assert {"vgg11_lrn", "vgg16_c"} <= set(claims_config(BUDGETS["smoke"], {}).archs)
    assert "vgg11_lrn" in claims_config(BUDGETS["cpu"], {}, ("lrn",)).archs


def test_seeds_for_power_follows_the_textbook_formula():
    # (z_.975 + z_.8)^2 * 2 = 15.7 for sd 1 and effect 1; Student-t quantiles add about one seed.
    assert seeds_for_power(1.0, 1.0, 1.0) in (17, 18)
    assert seeds_for_power(1.0, 1.0, 4.0) <= 4  # a large effect needs few seeds
    assert seeds_for_power(3.0, 3.0, 1.0) > seeds_for_power(1.0, 1.0, 1.0)
    assert seeds_for_power(1.0, 1.0, 0.0) is None and seeds_for_power(0.0, 0.0, 1.0) is None


def test_pairs_for_power_plans_from_the_sd_of_the_differences():
    # n >= (t(.975, n-1) + t(.8, n-1))^2 * sd^2 / effect^2: 10 pairs for sd = effect (n - 1 df).
    assert pairs_for_power(1.0, 1.0) == 10
    assert pairs_for_power(0.5, 1.0) < pairs_for_power(1.0, 1.0) < pairs_for_power(2.0, 1.0)
    assert pairs_for_power(1.0, 0.0) is None and pairs_for_power(0.0, 1.0) is None


def test_design_reads_the_pilot_spread():
    pilot = {"vgg11": [80.0, 82.0, 84.0], "vgg13": [90.0, 91.0, 89.0], "vgg16": [91.0]}
    (row,) = design(pilot, [("vgg11", "vgg13"), ("vgg13", "vgg16")])  # vgg16 has one seed: skipped
    assert row.effect == pytest.approx(8.0) and row.sd_a == pytest.approx(2.0) and row.seeds <= 3
    assert "| vgg11 | vgg13 | +8.00 |" in design_table([row])


def _top1(better: str, worse: str, seeds: int = 5) -> dict[str, list[float]]:
    return {better: [85.0 + 0.3 * s for s in range(seeds)], worse: [75.0 + 0.3 * s for s in range(seeds)]}


@pytest.mark.parametrize("flip", [False, True])
def test_flipping_the_data_flips_the_kernel_verdict(flip):
    data = _top1("vgg13_k5", "vgg13") if flip else _top1("vgg13", "vgg13_k5")
    rows, comps = accuracy_claims(data, "cpu")
    (row,) = [r for r in rows if r.claim == "shallow_5x5"]
    assert row.verdict == ("contradicted" if flip else "holds")
    # The effect with its 95% CI and the seeds per side are in the verdict's text.
    assert row.measured.count("(n=5)") == 2 and ("-10.00" if flip else "+10.00") in row.measured


def _run(tmp_path, name, means, seeds=3):
    run = tmp_path / name
    run.mkdir()
    rows = [{"trial_id": f"{a}-{s}", "attempt": 1, "kind": "accuracy", "arch": a, "seed": s,
             "top1": m + 0.1 * s, "epochs": 6.0} for a, m in means.items() for s in range(seeds)]  # fmt: skip
    (run / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_kendall_tau_between_budgets():
    a = {"x": [1.0, 2.0], "y": [5.0, 6.0], "z": [9.0, 8.0], "w": [12.0, 13.0]}
    same = rank_agreement(a, {k: [v + 10 for v in vs] for k, vs in a.items()})
    assert same.tau == 1.0 and same.lo == 1.0 and same.short_order[0] == "w"
    reversed_ = rank_agreement(a, {k: [-v for v in vs] for k, vs in a.items()})
    assert reversed_.tau == -1.0
    with pytest.raises(ValueError, match="at least 3 archs"):
        rank_agreement({"x": [1.0]}, {"x": [2.0]})


def test_rank_command(tmp_path, capsys):
    short = _run(tmp_path, "short", {"vgg11": 70.0, "vgg13": 80.0, "vgg16": 85.0, "vgg19": 84.0})
    long = _run(tmp_path, "long", {"vgg11": 75.0, "vgg13": 85.0, "vgg16": 87.0, "vgg19": 90.0})
    out = tmp_path / "rank.md"
    assert main(["rank", str(short), str(long), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Kendall's tau-b = +0.67" in text and "vgg16 > vgg19 > vgg13 > vgg11" in text
    assert out.read_text() == text
    assert main(["rank", str(short), str(tmp_path / "missing")]) == 2


def test_rank_command_merges_the_folders_of_one_budget(tmp_path, capsys):
    a = _run(tmp_path, "a", {"vgg11": 70.0, "vgg13": 80.0})
    b = _run(tmp_path, "b", {"vgg13": 80.0, "vgg13_k5": 75.0})
    long = _run(tmp_path, "long", {"vgg11": 75.0, "vgg13": 85.0, "vgg13_k5": 79.0})
    assert main(["rank", f"{a},{b}", str(long)]) == 0
    assert "Kendall's tau-b = +1.00" in capsys.readouterr().out


def test_expected_duration_counts_a_bn_twin_as_the_twin():
    from types import SimpleNamespace

    from vggablate.arch.registry import get_arch
    from vggablate.claims.budgets import expected_seconds

    plain = SimpleNamespace(spec=get_arch("vgg11"), train=SimpleNamespace(bn_twin=False))
    twin = SimpleNamespace(spec=get_arch("vgg11"), train=SimpleNamespace(bn_twin=True))
    bn = SimpleNamespace(spec=get_arch("vgg11_bn"), train=SimpleNamespace(bn_twin=False))
    cost = [expected_seconds([t], 0.01, 1000, overhead_s=0.0) for t in (plain, twin, bn)]
    assert cost[1] == pytest.approx(1.3 * cost[0]) and cost[1] == pytest.approx(cost[2])
