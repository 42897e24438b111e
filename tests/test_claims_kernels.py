"""The beyond-the-paper kernel claim: verdicts computed from samples, a real (tiny) timing, the CLI hook."""

from __future__ import annotations

import numpy as np
import pytest

from bench.__main__ import main
from vggablate.claims import kernels as claims_kernels
from vggablate.claims.kernels import KernelClaimConfig, kernel_claim_rows, measure_sides, ratio_ci
from vggablate.claims.verdict import CONTRADICTED, HOLDS, INCONCLUSIVE

CFG = KernelClaimConfig(channels=8, size=8, kernels=(3, 5), models=(), rounds=2, budget_s=0.02, resamples=200)


def _samples(center: float, n: int = 30, seed: int = 0) -> np.ndarray:
    return center * (1 + 0.02 * np.random.default_rng(seed).standard_normal(n))


@pytest.mark.parametrize(("fast", "slow", "expected"),
                         [(100.0, 50.0, HOLDS), (50.0, 100.0, CONTRADICTED), (100.0, 100.0, INCONCLUSIVE)])  # fmt: skip
def test_verdict_follows_the_samples(fast, slow, expected):
    rows = kernel_claim_rows(CFG, {"conv3": _samples(fast), "conv5": _samples(slow, seed=1)})
    assert [r.verdict for r in rows] == [expected, expected]
    assert all(r.claim == "beyond_kernels" and "beyond the paper" in r.source for r in rows)


def test_ratio_ci_brackets_the_ratio():
    r, lo, hi = ratio_ci(_samples(90.0), _samples(30.0, seed=2), 500)
    assert lo < r < hi and r == pytest.approx(3.0, rel=0.05)


def test_measure_sides_times_each_kernel():
    samples = measure_sides(CFG)
    assert set(samples) == {"conv3", "conv5"}
    assert all(s.size >= 2 * 5 and (s > 0).all() for s in samples.values())


def test_kernels_only_cli(monkeypatch, capsys):
    monkeypatch.setattr(claims_kernels, "default_config", lambda device: CFG)
    assert main(["claims", "--kernels-only", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "3x3 conv faster per MAC than 5x5" in out and "beyond the paper" in out


def test_kernel_rows_reach_claims_md(tmp_path):
    from vggablate.claims.budgets import write_claims

    (tmp_path / "rows.jsonl").write_text("")
    extra = kernel_claim_rows(CFG, {"conv3": _samples(100.0), "conv5": _samples(50.0, seed=1)})
    section, rows, _ = write_claims(tmp_path, "no training", extra)
    text = (tmp_path / "claims.md").read_text()
    assert "beyond the paper" in text and "3x3 conv faster per MAC than 5x5" in text
    assert [r for r in rows if r.claim == "beyond_kernels"] == extra
