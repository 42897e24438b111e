import math
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from vggablate import build_model, get_arch
from vggablate.measure.latency import (
    StepConfig,
    make_inputs,
    measure_latency,
    median_rel_ci,
    precision_flags,
    summarize,
)
from vggablate.measure.peaks import measured_gemm_tflops, spec_peak, utilisation

TINY = StepConfig(batch_size=2, input_size=32, threads=1, warmup=1, budget_s=0.2, max_samples=30)


def tiny_model(name: str = "vgg11_bn"):
    return build_model(replace(get_arch(name), width=0.125, head="gap"))


def test_summary_of_known_samples():
    samples = [float(v) for v in range(1, 11)]
    s = summarize(samples, threads=3)
    assert s.samples_s == tuple(samples)
    assert (s.median_s, s.q25_s, s.q75_s) == (5.5, 3.25, 7.75)
    assert s.iqr_s == s.q75_s - s.q25_s
    assert (s.p10_s, s.p90_s) == (1.9, 9.1)
    assert s.mean_s == 5.5
    assert s.std_s == pytest.approx(np.std(samples, ddof=1))
    assert (s.n, s.threads, s.compile_s) == (10, 3, None)


def test_median_ci_needs_samples_and_shrinks():
    assert median_rel_ci([1.0] * 5) == math.inf
    assert median_rel_ci([1.0] * 20) == 0.0
    spread = list(np.linspace(0.9, 1.1, 100))
    assert 0 < median_rel_ci(spread) < median_rel_ci(spread[::4])


def test_cpu_infer_samples_and_summary():
    model = tiny_model()
    s = measure_latency(model, TINY)
    assert TINY.min_samples <= s.n <= TINY.max_samples
    assert len(s.samples_s) == s.n and min(s.samples_s) > 0
    assert s.p10_s <= s.q25_s <= s.median_s <= s.q75_s <= s.p90_s
    assert s.threads == 1 and s.compile_s is None
    assert model.training  # the caller's mode is restored


def test_sampling_stops_at_target_ci_or_budget():
    model = tiny_model()
    loose = measure_latency(model, replace(TINY, min_samples=10, target_rel_ci=10.0, budget_s=60))
    assert loose.n == 10  # the first n whose median CI exists is within +-1000%
    start = time.perf_counter()
    short = measure_latency(model, replace(TINY, target_rel_ci=0.0, budget_s=0.05, max_samples=10_000))
    assert short.n < 10_000 and time.perf_counter() - start < 5


def test_train_restores_weights_and_bn_stats():
    model = tiny_model()
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    s = measure_latency(model, replace(TINY, mode="train", precision="bf16", max_samples=6))
    assert s.n >= TINY.min_samples
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not model.training and all(p.grad is None for p in model.parameters())


def test_inputs_are_random_distinct_and_never_zero():
    xs = make_inputs(replace(TINY, channels_last=True, input_pool=3))
    assert len(xs) == 3 and all(x.shape == (2, 3, 32, 32) for x in xs)
    assert all(x.is_contiguous(memory_format=torch.channels_last) for x in xs)
    assert all(bool(x.ne(0).all()) for x in xs)
    assert not torch.equal(xs[0], xs[1])


def test_precision_flags_are_restored():
    bench = torch.backends.cudnn.benchmark
    with precision_flags("tf32", cudnn_benchmark=not bench):
        assert torch.backends.cudnn.benchmark is (not bench)
    assert torch.backends.cudnn.benchmark is bench


def test_spec_peaks_match_whole_words():
    assert spec_peak("NVIDIA H100 80GB HBM3", "bf16").tflops == 989.4
    assert spec_peak("NVIDIA H100 PCIe", "bf16").tflops == 756.5
    assert spec_peak("NVIDIA A100-SXM4-80GB", "tf32").tflops == 156.0
    assert spec_peak("NVIDIA L40S", "bf16") is None  # not an L4
    assert spec_peak("Tesla V100-SXM2-16GB", "bf16") is None  # no bf16 on Volta
    assert "datasheet" in spec_peak("NVIDIA H200", "fp16").source


def test_utilisation_arithmetic():
    u = utilisation(0.5, 4, 10**9, mode="train", device="cpu", precision="fp32", measure_peak=False)
    assert u.throughput_ips == 8.0
    assert u.gflops_achieved == pytest.approx(2 * 10**9 * 4 * 3 / 0.5 / 1e9)
    assert (u.peak_tflops_spec, u.mfu_vs_spec, u.util_vs_measured_gemm) == (None, None, None)
    name = "NVIDIA H100 80GB HBM3"
    kw = {"mode": "infer", "device": "cuda", "precision": "bf16", "device_name": name, "measure_peak": False}
    h100 = utilisation(0.01, 64, 10**10, **kw)
    assert h100.mfu_vs_spec == pytest.approx(2 * 10**10 * 64 / 0.01 / 1e12 / 989.4)


def test_measured_gemm_is_cached_per_process():
    first = measured_gemm_tflops("cpu", "fp32")
    start = time.perf_counter()
    assert measured_gemm_tflops("cpu", "fp32") == first > 0
    assert time.perf_counter() - start < 0.01


@pytest.mark.gpu
def test_cuda_paths_bf16_channels_last_and_fp16_train():
    model = tiny_model()
    cfg = replace(TINY, device="cuda", precision="bf16", channels_last=True, cudnn_benchmark=True, threads=None)
    s = measure_latency(model, cfg)
    assert s.n >= cfg.min_samples and s.median_s > 0
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure_latency(model, replace(cfg, mode="train", precision="fp16"))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert measured_gemm_tflops("cuda", "bf16") > 1.0


@pytest.mark.gpu
def test_cuda_compile_time_is_separate():
    s = measure_latency(tiny_model(), replace(TINY, device="cuda", compile=True, threads=None))
    assert s.compile_s is not None and s.compile_s > s.median_s
