import math
from dataclasses import replace

import pytest

from vggablate import get_arch, layer_table
from vggablate.measure.latency import StepConfig
from vggablate.measure.memory import estimate_memory, measure_memory
from vggablate.run.isolate import run_isolated

MIB = 2**20
SPEC = replace(get_arch("vgg11"), width=0.125, head="gap")
CFG = StepConfig(batch_size=4, input_size=32, threads=1)


def test_estimate_infer_is_the_largest_adjacent_pair():
    rows = layer_table(SPEC, 32)
    sizes = [3 * 32 * 32] + [math.prod(r.out_shape) for r in rows]
    params = sum(r.params for r in rows)
    e = estimate_memory(SPEC, CFG)
    assert e.weights_mb == 4 * params / MIB
    assert e.activations_mb == 4 * 4 * max(a + b for a, b in zip(sizes, sizes[1:])) / MIB
    assert (e.grads_mb, e.optimizer_mb) == (0, 0)
    assert e.total_mb == e.weights_mb + e.activations_mb


def test_estimate_train_keeps_outputs_grads_and_momentum():
    rows = layer_table(SPEC, 32)
    sizes = [3 * 32 * 32] + [math.prod(r.out_shape) for r in rows]
    indices = sum(8 * math.prod(r.out_shape) for r in rows if r.kind == "pool")
    params = sum(r.params for r in rows)
    e = estimate_memory(SPEC, replace(CFG, mode="train"))
    assert e.activations_mb == 4 * (4 * sum(sizes) + indices) / MIB
    assert e.grads_mb == e.optimizer_mb == 4 * params / MIB
    half = estimate_memory(SPEC, replace(CFG, mode="train", precision="bf16"))
    assert half.weights_mb == 6 * params / MIB  # fp32 master weights + autocast's bf16 copies
    assert half.activations_mb < e.activations_mb


PEAK_GROWTH = """
from vggablate.measure.memory import peak_rss_mb, reset_peak_rss, rss_mb
assert rss_mb() > 0
if not reset_peak_rss():
    print("skip")
else:
    base = peak_rss_mb()
    block = bytearray(64 * 2**20)  # touched: zero-filled on allocation
    print(peak_rss_mb() - base)
"""


def test_peak_rss_reset_and_growth():
    # A fresh process: in a long test session freed pages may be reused without growing the RSS.
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", PEAK_GROWTH], capture_output=True, text=True, check=True).stdout
    if out.strip() == "skip":
        pytest.skip("/proc/self/clear_refs is not writable here")
    assert float(out) >= 60


def test_cpu_measure_in_a_fresh_process():
    spec = replace(get_arch("vgg11"), width=0.5, head="gap")
    cfg = StepConfig(mode="train", batch_size=16, input_size=64, threads=1)
    out = run_isolated(measure_memory, {"spec": spec, "cfg": cfg}, timeout_s=120)
    assert out.ok, out.error
    m = out.value
    assert (m.peak_alloc_mb, m.peak_reserved_mb) == (None, None)
    # The step holds at least its activations, gradients and momentum; libraries add more.
    a = m.analytic
    assert m.rss_peak_mb >= a.activations_mb + a.grads_mb + a.optimizer_mb
    assert m.weights_mb > 0.5 * a.weights_mb


@pytest.mark.gpu
def test_cuda_phases():
    spec = replace(get_arch("vgg11_bn"), width=0.5, head="gap")
    cfg = StepConfig(device="cuda", mode="train", batch_size=32, input_size=64, precision="bf16", channels_last=True)
    out = run_isolated(measure_memory, {"spec": spec, "cfg": cfg}, timeout_s=300)
    assert out.ok, out.error
    m = out.value
    assert m.rss_peak_mb is None
    assert m.weights_mb == pytest.approx(m.analytic.weights_mb * 4 / 6, rel=0.05)  # fp32 on the device
    assert m.peak_reserved_mb >= m.peak_alloc_mb > m.weights_mb
    # The measured step is a steady-state one: weights, gradients and momentum are all alive.
    a = m.analytic
    assert m.peak_alloc_mb >= m.weights_mb + a.grads_mb + a.optimizer_mb


def test_compile_is_honoured_and_the_measured_step_is_the_second(monkeypatch):
    # The row says compile=True, so the step measured must be the compiled one; the first,
    # unmeasured step creates the momentum buffers a steady-state step holds.
    import torch

    compiled, calls = [], []

    def fake_compile(model):
        compiled.append(model)

        def forward(x):
            calls.append(x.shape)
            return model(x)

        return forward

    monkeypatch.setattr(torch, "compile", fake_compile)
    m = measure_memory(SPEC, replace(CFG, mode="train", compile=True))
    assert len(compiled) == 1 and len(calls) == 2
    assert m.rss_peak_mb is not None
