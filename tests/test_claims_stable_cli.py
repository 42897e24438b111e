"""`bench claims --until-stable`: budgets doubled into epochs-N folders, capped, resumable (in-process, tiny)."""

import json
from pathlib import Path

from cli_helpers import bench_main

TINY = ["--budget", "smoke", "--claims", "lrn", "--width", "0.0625", "--seeds", "2"]


def lines(path: Path) -> int:
    return len((path / "rows.jsonl").read_text().splitlines())


def test_until_stable_doubles_stops_at_the_cap_and_resumes(tmp_path):
    proc = bench_main("claims", *TINY, "--epochs", "0.1", "--until-stable", "--max-epochs", "0.2", "--out",
                      str(tmp_path))  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # not settled: stopped at the cap
    (parent,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert sorted(p.name for p in parent.iterdir()) == ["epochs-0.1", "epochs-0.2", "stability.md", "stable.json"]
    # The closing line (in-process, a captured warning may print after it; a real process prints it first).
    (last,) = [line for line in proc.stderr.splitlines() if line.startswith("not settled:")]
    assert last.startswith("not settled: stopped at 0.2 epochs") and f"--resume {parent}" in last
    table = (parent / "stability.md").read_text()
    epochs = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("|")][2:]
    assert epochs == ["0.1", "0.2"] and ("order held" in table or "order swapped" in table)
    assert json.loads((parent / "stable.json").read_text())["start_epochs"] == 0.1
    for sub in ("epochs-0.1", "epochs-0.2"):
        assert lines(parent / sub) == 4 and (parent / sub / "claims.md").is_file()
    # One-epoch-point curves cannot say whether the nets converged: never settled on them.
    assert "unknown" in table
    before = {sub: lines(parent / sub) for sub in ("epochs-0.1", "epochs-0.2")}
    again = bench_main("claims", "--resume", str(parent), "--quiet")
    assert again.returncode == 1, again.stderr
    assert {sub: lines(parent / sub) for sub in before} == before  # nothing reran


def test_until_stable_refusals(tmp_path):
    proc = bench_main("claims", *TINY, "--max-epochs", "4", "--out", str(tmp_path))
    assert proc.returncode == 2 and "add --until-stable" in proc.stderr
    proc = bench_main("claims", *TINY, "--epochs", "2", "--until-stable", "--max-epochs", "1", "--out", str(tmp_path))
    assert proc.returncode == 2 and "below the starting" in proc.stderr
    assert not any(tmp_path.iterdir())


def test_budget_flag_lists_every_budget():
    from bench.cmd_claims import BUDGET_NAMES
    from vggablate.claims.budgets import BUDGETS, default_budget

    assert set(BUDGET_NAMES) == set(BUDGETS)
    assert default_budget(True) == "cifar" and default_budget(False) in BUDGETS
