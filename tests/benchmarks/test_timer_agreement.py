"""Our CPU median against torch.utils.benchmark's blocked_autorange, same model, input and threads.

Runs only when asked: ``python -m pytest tests/benchmarks -p no:cacheprovider --benchmark-enable -s``
(or with VGGABLATE_BENCH=1). The figures it prints are recorded in docs/benchmarks.md.
"""

import os
import statistics
from dataclasses import replace

import pytest
import torch
from torch.utils.benchmark import Timer

from vggablate import build_model, get_arch
from vggablate.measure.env import cpu_name
from vggablate.measure.latency import StepConfig, make_step, measure_latency, precision_flags, thread_count

THREADS = int(os.environ.get("VGGABLATE_BENCH_THREADS", "1"))
CFG = StepConfig(batch_size=8, input_size=64, threads=THREADS, warmup=5, budget_s=0.75, target_rel_ci=0.0)
# Short interleaved rounds, the order alternating, so load drift on a shared machine hits both alike.
ROUNDS = 8


@pytest.fixture
def enabled(request):
    if not (request.config.getoption("benchmark_enable", False) or os.environ.get("VGGABLATE_BENCH")):
        pytest.skip("benchmark: run with --benchmark-enable or VGGABLATE_BENCH=1")


def torch_timer_median(model) -> float:
    step, restore = make_step(model, CFG)  # our step: rotating inputs, eval, inference_mode
    with thread_count(THREADS), precision_flags(CFG.precision):
        median = (
            Timer(stmt="step()", globals={"step": step}, num_threads=THREADS)
            .blocked_autorange(min_run_time=CFG.budget_s)
            .median
        )
    restore()
    return median


def test_cpu_median_agrees_with_torch_timer(enabled):
    model = build_model(replace(get_arch("vgg11"), width=0.25, head="gap"))
    ours, theirs, samples = [], [], []
    for i in range(ROUNDS):
        if i % 2:
            theirs.append(torch_timer_median(model))
        stats = measure_latency(model, CFG)
        ours.append(stats.median_s)
        samples.append(stats.n)
        if not i % 2:
            theirs.append(torch_timer_median(model))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"\ntimer agreement: vgg11 width 0.25, 64x64, batch 8, fp32 infer, {THREADS} thread(s), {cpu_name()}, "
        f"{os.cpu_count()} cores, torch {torch.__version__}\n"
        f"  ours  (perf_counter per call; median over {ROUNDS} rounds of n={samples}): {a * 1e3:.3f} ms\n"
        f"  Timer (blocked_autorange median; median over {ROUNDS} rounds): {b * 1e3:.3f} ms\n"
        f"  rounds ours  ms: {' '.join(f'{v * 1e3:.2f}' for v in ours)}\n"
        f"  rounds Timer ms: {' '.join(f'{v * 1e3:.2f}' for v in theirs)}\n"
        f"  ratio ours/Timer = {a / b:.4f}"
    )
    assert abs(a / b - 1) < 0.05
