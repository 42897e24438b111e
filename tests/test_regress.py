"""Baselines and the comparison rules: counts exact, memory thresholds, noise-aware latency (no torch)."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import numpy as np
import pytest

from vggablate.errors import UsageError
from vggablate.regress import CompareConfig, LatencyRule, compare, compare_latency, from_rows, load, save, to_markdown
from vggablate.regress.ab import open_side

ENV = {"env_device_name": "cpu", "env_cpu": "AMD EPYC", "env_threads": 2, "env_torch": "2.4.0", "env_git_rev": "abc"}


def samples(n: int = 80, median: float = 5.0, seed: int = 0, sigma: float = 0.08) -> list[float]:
    """Right-skewed step times (lognormal, 8% spread), like CPU latency."""
    return list(median * np.random.default_rng(seed).lognormal(0.0, sigma, n))


def rows(arch: str = "vgg11", scale_mem: float = 1.0, params: int = 1000, lat: list[float] | None = None) -> list:
    """Counts, memory and latency rows of one arch, shaped like a run's journal."""
    base = {"arch": arch, "input_size": 32, "device": "cpu", "width": 0.125, "head": "gap", "num_classes": 10, **ENV}
    timing = {**base, "mode": "infer", "batch_size": 8, "precision": "fp32", "channels_last": False, "compile": False}
    return [
        {**base, "trial_id": "c", "kind": "counts", "params": params, "macs": 50 * params, "conv_layers": 8},
        {**timing, "trial_id": "m", "kind": "memory", "mem_analytic_mb": 10.0 * scale_mem,
         "mem_rss_peak_mb": 40.0 * scale_mem, "mem_weights_mb": 2.0},
        {**timing, "trial_id": "l", "kind": "latency", "latency_samples_ms": lat or samples(), "latency_ms_p50": 5.0},
    ]  # fmt: skip


def statuses(comparison) -> dict[str, str]:
    return {r.metric: r.status for r in comparison.results}


# --- latency statistics -------------------------------------------------------------------------


def test_identical_distributions_are_not_flagged():
    a = samples(seed=1)
    assert compare_latency(a, a).status == "ok"
    assert compare_latency(a, samples(seed=2)).status == "ok"  # same distribution, other draw


def test_clear_30pct_slowdown_is_flagged_and_speedup_reported():
    change = compare_latency(samples(seed=1), [1.3 * s for s in samples(seed=2)])
    assert change.status == "regressed" and change.ratio_lo > 1.2 and change.p_value < 1e-6
    assert compare_latency(samples(seed=1), [0.7 * s for s in samples(seed=2)]).status == "improved"


def test_significant_but_small_change_is_not_flagged():
    old, new = samples(400, seed=1, sigma=0.02), samples(400, median=5.15, seed=2, sigma=0.02)
    change = compare_latency(old, new)
    assert change.significant and change.ratio_lo > 1  # a real 3% slowdown...
    assert change.status == "ok"  # ...but below the 10% minimum effect


def test_busy_machine_tail_does_not_fool_the_default_quantile():
    # Same code; B ran while more of its steps were preempted (2x): a tail, not a slowdown.
    clean, busy = samples(200, seed=1, sigma=0.03), samples(200, median=10.0, seed=2, sigma=0.03)
    old, new = clean[:120] + busy[:80], clean[120:] + busy[80:]
    assert compare_latency(old, new).status == "ok"  # 10th percentile: both sides' undisturbed steps
    assert compare_latency(old, new, LatencyRule(quantile=0.5)).status == "regressed"  # medians cry wolf


def test_bootstrap_is_reproducible_and_seeded():
    a, b = samples(seed=1), samples(seed=2)
    assert compare_latency(a, b) == compare_latency(a, b)
    other = compare_latency(a, b, LatencyRule(seed=7))
    assert other.ratio == compare_latency(a, b).ratio and other.ratio_lo != compare_latency(a, b).ratio_lo


def test_too_few_samples_raise():
    with pytest.raises(ValueError, match="too few latency samples"):
        compare_latency([1.0, 1.1, 1.2], samples())


# --- compare -----------------------------------------------------------------------------------


def test_same_figures_pass():
    c = compare(from_rows(rows()), from_rows(rows()))
    assert not c.regressed and set(statuses(c).values()) == {"ok"} and not c.warnings


def test_count_change_is_a_regression_unless_allowed():
    c = compare(from_rows(rows()), from_rows(rows(params=1001)))
    assert c.regressed and statuses(c)["params"] == "regressed" and statuses(c)["macs"] == "regressed"
    allowed = compare(from_rows(rows()), from_rows(rows(params=1001)), CompareConfig(allow_count_change=True))
    assert not allowed.regressed and statuses(allowed)["params"] == "changed"


def test_memory_threshold_per_metric():
    c = compare(from_rows(rows()), from_rows(rows(scale_mem=1.10)))
    # +10%: over the 5% default for the analytic figure; within the 20% allowed for CPU resident set.
    assert statuses(c)["mem_analytic_mb"] == "regressed" and statuses(c)["mem_rss_peak_mb"] == "ok"
    assert statuses(compare(from_rows(rows()), from_rows(rows(scale_mem=1.03))))["mem_analytic_mb"] == "ok"
    assert statuses(compare(from_rows(rows()), from_rows(rows(scale_mem=0.8))))["mem_analytic_mb"] == "improved"
    strict = CompareConfig(mem_thresholds=(("mem_rss_peak_mb", 0.05),))
    assert (
        statuses(compare(from_rows(rows()), from_rows(rows(scale_mem=1.10)), strict))["mem_rss_peak_mb"] == "regressed"
    )


def test_latency_regression_in_a_comparison():
    slow = [1.3 * s for s in samples(seed=3)]
    c = compare(from_rows(rows()), from_rows(rows(lat=slow)))
    assert c.regressed and statuses(c)["latency_samples_ms"] == "regressed"


def test_other_machine_warns_and_skips_latency_unless_forced():
    other = [{**r, "env_cpu": "Intel Xeon"} for r in rows(lat=[1.3 * s for s in samples(seed=3)])]
    c = compare(from_rows(rows()), from_rows(other))
    assert "different machine: cpu 'AMD EPYC' -> 'Intel Xeon'" in c.warnings[0]
    assert statuses(c)["latency_samples_ms"] == "skipped" and not c.regressed
    forced = compare(from_rows(rows()), from_rows(other), CompareConfig(force=True))
    assert forced.regressed and statuses(forced)["latency_samples_ms"] == "regressed"


def test_other_software_is_a_note_not_a_refusal():
    upgraded = [{**r, "env_torch": "2.5.0", "env_git_rev": "def"} for r in rows()]
    c = compare(from_rows(rows()), from_rows(upgraded))
    assert c.notes == ("torch 2.4.0 -> 2.5.0",) and not c.warnings
    assert statuses(c)["latency_samples_ms"] == "ok"


def test_trial_that_now_fails_is_a_regression():
    current = rows()
    current[1] = {**current[1], "error": "CUDA out of memory", "error_type": "oom", "mem_analytic_mb": None}
    c = compare(from_rows(rows()), from_rows(current))
    assert c.regressed and [r.status for r in c.results if r.metric == "(trial)"] == ["failed"]


@pytest.mark.parametrize(
    ("current", "message"),
    [
        (rows("vgg13"), "different archs: only in baseline: vgg11; only in current: vgg13"),
        ([{**r, "batch_size": 16} if r["kind"] != "counts" else r for r in rows()], "different settings: only in"),
        ([{k: v for k, v in r.items() if k != "mem_analytic_mb"} for r in rows()],
         "missing metric(s) in current: mem_analytic_mb (vgg11 memory infer bs8 fp32 32px cpu"),
        (rows(lat=[5.0, 5.1]), "too few latency samples (80 old, 2 new"),
        ([], "the current has no counts, memory or latency figures"),
    ],
)  # fmt: skip
def test_unusable_input_says_what_differs(current, message):
    with pytest.raises(UsageError) as err:
        compare(from_rows(rows()), from_rows(current))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_markdown_table():
    text = to_markdown(compare(from_rows(rows()), from_rows(rows(params=1001))), "base.json", "run")
    assert "| metric | setting | old | new | change | status |" in text
    assert "| params | vgg11 counts 32px w0.125 head=gap classes=10 | 1,000 | 1,001 | +1 (+0.10%) |" in text
    assert "**REGRESSED**" in text and "**REGRESSION**: 2 regressed, 5 ok" in text


# --- baseline files ----------------------------------------------------------------------------


def test_baseline_keeps_latest_attempt_and_roundtrips(tmp_path):
    journal = rows() + [{**rows(params=7)[0], "attempt": 1}]
    baseline = from_rows(journal, source="run")
    assert baseline.machine == {"device_name": "cpu", "cpu": "AMD EPYC", "threads": 2}
    assert baseline.software == {"torch": "2.4.0", "git_rev": "abc"}
    loaded = load(save(baseline, tmp_path / "deep" / "b.json"))
    assert loaded.entries == baseline.entries and loaded.machine == baseline.machine
    assert not compare(baseline, loaded).regressed


def test_load_refuses_other_files(tmp_path):
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(UsageError, match="not a baseline file"):
        load(tmp_path / "x.json")
    with pytest.raises(UsageError, match="a folder without rows.jsonl"):
        load(tmp_path)
    with pytest.raises(UsageError, match="no such baseline file or run folder"):
        load(tmp_path / "missing.json")


def test_one_extra_conv_is_flagged():
    from vggablate.arch.analysis import analyse
    from vggablate.arch.factory import resolve_spec

    spec = resolve_spec("vgg11", head="gap", num_classes=10)
    deeper = replace(spec, cfg=spec.cfg[:-1] + spec.cfg[-2:])  # the last stage's conv once more, then its pool
    before, after = rows(), rows()
    for row, s in ((before[0], spec), (after[0], deeper)):
        t = analyse(s, 32)
        row.update(params=t.params, macs=t.macs, conv_layers=t.conv_layers)
    c = compare(from_rows(before), from_rows(after))
    assert {statuses(c)[m] for m in ("params", "macs", "conv_layers")} == {"regressed"}


# --- A/B sides ---------------------------------------------------------------------------------


def test_ab_side_resolution(tmp_path):
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f.txt").write_text("one\n")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    (tmp_path / "f.txt").write_text("two\n")  # uncommitted: '.' sees it, HEAD does not
    with open_side("A", "HEAD", repo=tmp_path) as a, open_side("B", ".", repo=tmp_path) as b:
        assert (a.code / "f.txt").read_text() == "one\n" and (b.code / "f.txt").read_text() == "two\n"
        tree = a.code
    assert not tree.exists()
    with pytest.raises(UsageError, match="neither '.', a python executable nor a git revision"):
        with open_side("A", "no-such-rev", repo=tmp_path):
            pass
