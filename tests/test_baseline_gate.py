"""The CI gate: params, MACs, conv layers and analytic memory must equal results/baselines/ci.json.

These figures depend only on the code, so any difference is a real change. After an intended
one, regenerate the file and commit it with the change:
``python -m bench baseline deterministic --to results/baselines/ci.json``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vggablate.regress import CompareConfig, compare, from_rows, load, to_markdown
from vggablate.regress.baseline import COUNT_METRICS, MEMORY_METRICS
from vggablate.regress.deterministic import FVCORE_SIZE, deterministic_baseline

CI_BASELINE = Path(__file__).resolve().parents[1] / "results" / "baselines" / "ci.json"
# Any change fails: a memory estimate that moved by 0.1% is still a code change to account for.
EXACT = CompareConfig(mem_threshold=0.0)


@pytest.fixture(scope="module")
def fresh():
    return deterministic_baseline()


def test_deterministic_figures_match_committed_baseline(fresh):
    comparison = compare(load(CI_BASELINE), fresh, EXACT)
    changed = [r for r in comparison.results if r.status != "ok"]
    table = to_markdown(replace(comparison, results=tuple(changed)), "committed", "recomputed")
    assert not changed, (
        f"{len(changed)} deterministic figure(s) changed; if intended, run "
        f"`python -m bench baseline deterministic --to results/baselines/ci.json` and commit it\n{table}"
    )


def test_gate_covers_counts_and_memory(fresh):
    kinds = {e.setting["kind"] for e in fresh.entries.values()}
    metrics = {m for e in fresh.entries.values() for m in e.metrics}
    assert kinds == {"counts", "memory"} and set(COUNT_METRICS) <= metrics
    assert {m for m in MEMORY_METRICS if m.startswith("mem_analytic")} <= metrics
    assert len(fresh.entries) >= 100


def test_planted_10pct_memory_increase_is_always_flagged(fresh):
    planted = {
        label: replace(e, metrics={m: v * 1.10 if m in MEMORY_METRICS else v for m, v in e.metrics.items()})
        for label, e in fresh.entries.items()
    }
    comparison = compare(fresh, replace(fresh, entries=planted))
    memory = [r for r in comparison.results if r.metric in MEMORY_METRICS and r.old]
    assert len(memory) > 300 and all(r.status == "regressed" for r in memory)
    assert all(r.status == "ok" for r in comparison.results if r.metric in COUNT_METRICS)


@pytest.mark.parametrize("arch", ["vgg11_bn", "vgg11_lrn"])
def test_one_extra_conv_is_flagged_by_fvcore_counts(fresh, arch):
    from vggablate.arch.factory import resolve_spec
    from vggablate.regress.deterministic import _fvcore_counts

    spec = resolve_spec(arch, head="gap", num_classes=10)
    deeper = replace(spec, cfg=spec.cfg[:-1] + spec.cfg[-2:])  # the last conv once more, then the pool
    old, new = from_rows([_fvcore_counts(spec, FVCORE_SIZE)]), from_rows([_fvcore_counts(deeper, FVCORE_SIZE)])
    statuses = {r.metric: r.status for r in compare(old, new).results}
    assert statuses == dict.fromkeys(COUNT_METRICS, "regressed")
