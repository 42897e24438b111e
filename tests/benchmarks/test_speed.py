"""pytest-benchmark suite: tiny-width VGGs on CPU (forward, train step) and the harness's own overhead.

Skipped by plain ``python -m pytest`` (pyproject's ``--benchmark-skip``); run with ``nox -s benchmarks``,
which saves every run and fails when a median is 10% slower than the last saved one. On a shared
machine that comparison is only as good as the machine is quiet: ``bench ab`` is the noise-robust gate.
One intra-op thread throughout: steadier on a shared runner, and what the figures are compared at.
"""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

from vggablate import analyse, create_model, get_arch
from vggablate.measure.latency import StepConfig, make_step, measure_latency, thread_count
from vggablate.regress import CompareConfig, compare, from_rows

TINY = {"width": 0.125, "head": "gap", "num_classes": 10}  # CIFAR-sized, ~1 ms per step: many rounds per second
CFG = StepConfig(batch_size=8, input_size=32, threads=1)


@pytest.fixture(autouse=True)
def one_thread():
    with thread_count(1):
        yield


@pytest.mark.parametrize("arch", ["vgg11", "vgg16_bn", "vgg13_k5"])
def test_forward(benchmark, arch):
    step, restore = make_step(create_model(arch, **TINY), CFG)
    benchmark(step)
    restore()


@pytest.mark.parametrize("arch", ["vgg11", "vgg16_bn"])
def test_train_step(benchmark, arch):
    step, restore = make_step(create_model(arch, **TINY), StepConfig(batch_size=8, input_size=32, mode="train"))
    benchmark(step)
    restore()


def test_harness_overhead_per_timed_step(benchmark):
    """measure_latency on a model that does almost nothing: what the harness adds to 50 samples."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 10))
    cfg = StepConfig(batch_size=1, input_size=4, warmup=0, min_samples=50, max_samples=50, budget_s=1e9,
                     target_rel_ci=0.0)  # fmt: skip
    benchmark(measure_latency, model, cfg)


def test_analytic_table(benchmark):
    benchmark(analyse, get_arch("vgg16"), 224)


def test_compare_latency_bootstrap(benchmark):
    """The gate's statistics on 1000 samples a side (2000 bootstrap resamples)."""
    rng = np.random.default_rng(0)
    rows = [{"arch": "vgg11", "kind": "latency", "latency_samples_ms": list(rng.lognormal(0, 0.1, 1000))}]
    old, new = from_rows(rows), from_rows([{**rows[0], "latency_samples_ms": list(rng.lognormal(0, 0.1, 1000))}])
    benchmark(compare, old, new, CompareConfig(force=True))  # force: these rows carry no machine fingerprint
