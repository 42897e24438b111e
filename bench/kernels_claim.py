"""``bench claims --kernels-only DEVICE``: time the beyond-the-paper kernel claim alone and print its verdicts."""

from __future__ import annotations

import datetime


def kernels_only(device: str) -> int:
    """Judge the 3x3-cheaper-per-MAC claim on a device (no training) and print one line per comparison."""
    import torch

    from vggablate.claims.kernels import default_config, judge_kernel_claim
    from vggablate.errors import UsageError
    from vggablate.measure.env import load_average
    from vggablate.report.fmt import fmt_as

    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--kernels-only cuda needs CUDA and torch.cuda.is_available() is False; use cpu")
    cfg = default_config(device)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    load = load_average()
    rows = judge_kernel_claim(cfg)
    print(f"beyond the paper: 3x3 vs larger kernels per MAC on {name} ({cfg.precision}), "
          f"{datetime.date.today().isoformat()}, torch {torch.__version__}, "
          f"{cfg.threads or torch.get_num_threads()} thread(s), "
          f"1-min load {fmt_as(load, '.2f', 'unknown')} before, "
          f"{fmt_as(load_average(), '.2f', 'unknown')} after")  # fmt: skip
    for r in rows:
        print(f"  {r.verdict:>28}  {r.title}: {r.measured}")
    print("ratio = 3x3 side / larger side of work per second (GFLOP/s for convs, GMAC/s for the nets); "
          "[95% bootstrap CI of the ratio of medians]; holds when the CI lies above 1")  # fmt: skip
    return 0
