"""Regression tracking: baselines of the gated figures, noise-aware comparison, A/B runs of two code states."""

from vggablate.regress.baseline import Baseline, Entry, from_rows, load, save, setting_label
from vggablate.regress.compare import CompareConfig, Comparison, MetricResult, compare
from vggablate.regress.noise import LatencyChange, LatencyRule, compare_latency
from vggablate.regress.render import to_markdown

__all__ = [
    "Baseline",
    "CompareConfig",
    "Comparison",
    "Entry",
    "LatencyChange",
    "LatencyRule",
    "MetricResult",
    "compare",
    "compare_latency",
    "from_rows",
    "load",
    "save",
    "setting_label",
    "to_markdown",
]
