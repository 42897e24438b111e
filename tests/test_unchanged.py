"""Behaviour pinned before the issue-20 moves: trial ids of the standard archs, and a run folder's report.

Both fixtures were written by the code at commit 97866a4 (tests/data/trial_ids.json by the plan below;
tests/data/golden_run by `bench run --archs vgg11,vgg13_k5 --metrics params,macs,latency,memory,accuracy
--dataset digits --epochs 2 --seeds 2 --input-size 32 --batch-sizes 1,4 --width 0.125 --head gap`).
A refactor that changes either has changed behaviour: old run folders would stop resuming, or their
reports would read differently.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from cli_helpers import bench_main

DATA = Path(__file__).parent / "data"
STANDARD = tuple("vgg11 vgg13 vgg16 vgg19 vgg11_bn vgg13_bn vgg16_bn vgg19_bn vgg13_k5 vgg13_k5_cm".split())
GOLDEN_NAME = "20261207-041638-golden"  # the folder's name is the report's title


def _planned_ids() -> dict[str, str]:
    from vggablate.run.sweep import plan_trials, resolve_archs
    from vggablate.run.sweepconfig import SweepConfig, device_defaults
    from vggablate.run.trial import trial_id

    def key(device: str, dataset: str, t) -> str:
        t = t.planned_as or t  # named by the trial as planned: accuracy trials are fitted to their data since
        return f"{device}/{dataset}/{t.kind}/{t.spec.name}/{t.precision}/{t.mode}/bs{t.batch_size}/s{t.seed}"

    ids = {}
    for device in ("cpu", "cuda"):
        for dataset in ("digits", "clutter", "fashion-mnist", "cifar10"):
            cfg = SweepConfig(archs=STANDARD, device=device, **{**device_defaults(device), "dataset": dataset}, seeds=2)
            for t in plan_trials(cfg, resolve_archs(cfg)):
                ids[key(device, dataset if t.kind == "accuracy" else "-", t)] = trial_id(t)
        cfg = SweepConfig(archs=("vgg11", "vgg16"), device=device, widths=(0.25, 0.5), head="gap", input_size=32,
                          epochs=3.0, dataset="digits")  # fmt: skip
        for t in plan_trials(cfg, resolve_archs(cfg)):
            ids[key(device, "widths", t)] = trial_id(t)
    return ids


def test_trial_ids_of_the_standard_archs_are_unchanged():
    pinned = json.loads((DATA / "trial_ids.json").read_text())
    now = _planned_ids()
    assert now.keys() == pinned.keys()
    changed = sorted(k for k in pinned if now[k] != pinned[k])
    assert not changed, f"{len(changed)} trial ids changed, e.g. {changed[:3]}"


def _strip_images(html: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,...", html)


def test_report_rebuilds_a_folder_written_before_the_change(tmp_path):
    run = tmp_path / GOLDEN_NAME
    shutil.copytree(DATA / "golden_run", run)
    expected = {name: (run / name).read_bytes() for name in ("summary.md", "rows.csv")}
    (run / "summary.md").unlink()
    (run / "rows.csv").unlink()
    assert bench_main("report", str(run)).returncode == 0
    for name, before in expected.items():
        assert (run / name).read_bytes() == before, name
    # The plots are embedded as PNG (compared as files elsewhere); the page around them is pinned here.
    assert _strip_images((run / "report.html").read_text()) == (run / "report_text.html").read_text()
