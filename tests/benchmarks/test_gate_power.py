"""Power of the latency gate on this machine: A/A must pass, a planted 20% slowdown must fail.

Opt-in (a few minutes): ``VGGABLATE_GATE_POWER=1 python -m pytest tests/benchmarks/test_gate_power.py -s``.
Each comparison times A and B interleaved in short bursts (AB, BA, AB, ...), as ``bench ab`` does,
through the harness's own ``measure_latency``, then applies the gate's rule (bootstrap CI of the
ratio of 10th percentiles + Mann-Whitney, minimum effect 10%; the ratio of medians on the
same samples is recorded beside it). The planted slowdown is a test-only wrapper
whose forward busy-waits 20% of the time the wrapped forward just took, so it stays a 20%
slowdown however loaded the machine is. Set VGGABLATE_GATE_POWER_OUT=FILE.json to keep the figures.
The memory and count halves of the claim are deterministic and run in every CI job
(tests/test_baseline_gate.py).
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import subprocess
import sys
import time

import pytest
import torch
from torch import nn

from vggablate import create_model
from vggablate.measure.latency import StepConfig, measure_latency
from vggablate.regress import LatencyChange, LatencyRule, compare_latency

pytestmark = pytest.mark.skipif(
    os.environ.get("VGGABLATE_GATE_POWER") != "1", reason="gate power benchmark: set VGGABLATE_GATE_POWER=1"
)

COMPARISONS = 20  # the claim: >= 19 of 20
ROUNDS = 8  # interleaved bursts per side and comparison
BURST = StepConfig(batch_size=8, input_size=32, threads=1, warmup=2, min_samples=10, max_samples=10,
                      budget_s=1e9, target_rel_ci=0.0)  # fmt: skip
SLOWDOWN = 0.20
RESULTS: dict[str, dict] = {}


class Slowed(nn.Module):
    """Test-only: run the wrapped model, then busy-wait `factor` times as long as its forward took."""

    def __init__(self, inner: nn.Module, factor: float) -> None:
        super().__init__()
        self.inner, self.factor = inner, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        start = time.perf_counter()
        y = self.inner(x)
        end = time.perf_counter()
        deadline = end + self.factor * (end - start)
        while time.perf_counter() < deadline:  # spin, do not sleep: a sleeping CPU would not be "slower"
            pass
        return y


def tiny() -> nn.Module:
    return create_model("vgg11", width=0.25, head="gap", num_classes=10)


def burst(model: nn.Module) -> list[float]:
    return [s * 1e3 for s in measure_latency(model, BURST).samples_s]


def interleaved(a: nn.Module, b: nn.Module) -> tuple[list[float], list[float]]:
    """Time A and B in alternating bursts (AB, BA, ...); return each side's pooled samples (ms)."""
    out: dict[int, list[float]] = {0: [], 1: []}
    for r in range(ROUNDS):
        for side in (0, 1) if r % 2 == 0 else (1, 0):
            out[side] += burst((a, b)[side])
    return out[0], out[1]


def sequential(a: nn.Module, b: nn.Module) -> tuple[list[float], list[float]]:
    """Time all of A, then all of B (what two CI runs an hour apart do, compressed)."""
    return [s for _ in range(ROUNDS) for s in burst(a)], [s for _ in range(ROUNDS) for s in burst(b)]


def scenario(name: str, make_b, order=interleaved) -> list[LatencyChange]:
    start = time.perf_counter()
    changes, medians = [], []
    for _ in range(COMPARISONS):
        a = tiny()
        old, new = order(a, make_b(a))
        changes.append(compare_latency(old, new))
        medians.append(compare_latency(old, new, LatencyRule(quantile=0.5)))
    ratios = sorted(c.ratio for c in changes)
    RESULTS[name] = {
        "flagged": sum(c.status == "regressed" for c in changes),
        "flagged_by_median_rule": sum(c.status == "regressed" for c in medians),
        "p10_ms_a": statistics.median(c.old for c in changes),
        "p10_ms_b": statistics.median(c.new for c in changes),
        "comparisons": COMPARISONS,
        "median_ms_a": statistics.median(c.median_old for c in changes),
        "median_ms_b": statistics.median(c.median_new for c in changes),
        "ratio_min": ratios[0], "ratio_median": statistics.median(ratios), "ratio_max": ratios[-1],
        "samples_per_side": changes[0].n_old,
        "seconds": time.perf_counter() - start,
    }  # fmt: skip
    print(f"\n{name}: {json.dumps(RESULTS[name])}")
    return changes


def test_aa_is_not_flagged():
    changes = scenario("A/A interleaved", copy.deepcopy)
    assert sum(c.status == "regressed" for c in changes) <= 1


def test_planted_20pct_slowdown_is_flagged():
    changes = scenario("A/B 20% slower, interleaved", lambda a: Slowed(copy.deepcopy(a), SLOWDOWN))
    assert sum(c.status == "regressed" for c in changes) >= COMPARISONS - 1


def test_aa_sequential_for_contrast():
    """Not asserted: how often the gate would cry wolf without interleaving, on this machine today."""
    scenario("A/A sequential (not interleaved)", copy.deepcopy, order=sequential)


def test_ab_command_end_to_end_aa():
    """`bench ab --a . --b .` through fresh processes: same code, no flag."""
    cmd = [sys.executable, "-m", "bench", "ab", "--archs", "vgg11", "--a", ".", "--b", ".", "--rounds", "4",
           "--samples", "10", "--input-size", "32", "--width", "0.25", "--head", "gap", "--num-classes", "10",
           "--batch-size", "8", "--threads", "1", "--quiet"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    RESULTS["bench ab A/A (4 rounds)"] = {"exit": proc.returncode, "seconds": time.perf_counter() - start,
                                          "table": proc.stdout.strip().splitlines()[4:5]}  # fmt: skip
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module", autouse=True)
def record():
    yield
    RESULTS["machine"] = {"cpu": _cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__,
                          "burst": {k: getattr(BURST, k) for k in ("batch_size", "input_size", "threads")},
                          "rounds": ROUNDS}  # fmt: skip
    if os.environ.get("VGGABLATE_GATE_POWER_OUT"):
        with open(os.environ["VGGABLATE_GATE_POWER_OUT"], "w") as f:
            json.dump(RESULTS, f, indent=1)


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")
