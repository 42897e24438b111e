"""Measurements: pure functions that return dataclasses of raw figures, never rounded.

``counts`` (params, MACs, activations), ``latency`` (step times), ``memory`` (peaks),
``peaks`` (datasheet and measured device peaks, utilisation), ``env`` (the env_* columns).
Convention: 1 MAC = one multiply-add; torchvision's "GFLOPS" are GMACs; ``flops`` = 2 x ``macs``.
"""

from vggablate.measure.counts import Counts, measure_counts
from vggablate.measure.env import collect_env
from vggablate.measure.latency import LatencyStats, StepConfig, measure_latency
from vggablate.measure.memory import MemoryEstimate, MemoryStats, estimate_memory, measure_memory
from vggablate.measure.peaks import Utilisation, measured_gemm_tflops, spec_peak, utilisation

__all__ = [
    "Counts",
    "LatencyStats",
    "MemoryEstimate",
    "MemoryStats",
    "StepConfig",
    "Utilisation",
    "collect_env",
    "estimate_memory",
    "measure_counts",
    "measure_latency",
    "measure_memory",
    "measured_gemm_tflops",
    "spec_peak",
    "utilisation",
]
