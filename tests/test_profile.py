"""Per-layer profile: hooks cover every leaf, rows add up, the CLI writes its outputs, report rebuilds them."""

from __future__ import annotations

import json
import math

import pytest
import torch

from bench.__main__ import main
from vggablate.arch.analysis import analyse, layer_table
from vggablate.arch.factory import create_model
from vggablate.arch.spec import ArchSpec, parse_cfg
from vggablate.measure.latency import StepConfig
from vggablate.measure.profile import leaf_modules, profile_layers
from vggablate.run.execute import run_trial
from vggablate.run.trial import Trial

TINY = ArchSpec("tiny", parse_cfg("8,M,16k5,M"), head="gap", num_classes=4, batch_norm=True)
# One thread: on a shared 2-core machine two threads stall at every intra-op barrier (10x slower tests).
FAST = {"budget_s": 0.05, "warmup": 1, "min_samples": 3, "input_size": 16, "threads": 1}


@pytest.mark.parametrize("mode", ["infer", "train"])
def test_profile_times_every_leaf_in_call_order(mode):
    model = create_model(TINY)
    prof = profile_layers(model, StepConfig(mode=mode, batch_size=2, **FAST))
    names = [n for n, _ in leaf_modules(model)] + (["loss", "optimizer"] if mode == "train" else [])
    assert [lay.name for lay in prof.layers] == names
    assert all(len(lay.forward_s) == len(prof.step_s) >= 3 for lay in prof.layers)
    assert all(s > 0 for lay in prof.layers[:-2] for s in lay.forward_s)
    if mode == "train":  # every layer whose output needs a gradient has a backward time
        assert all(lay.backward_s and min(lay.backward_s) > 0 for lay in prof.layers[:-1])
        # the layers never take longer than the steps that contain them
        assert sum(min(lay.total_s) for lay in prof.layers) <= max(prof.step_s)
    else:
        assert all(not lay.backward_s for lay in prof.layers)


def test_profile_restores_weights_and_mode_after_train_steps():
    model = create_model(TINY).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    profile_layers(model, StepConfig(mode="train", batch_size=2, **FAST))
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


@pytest.mark.parametrize("mode", ["infer", "train"])
def test_layers_rows_add_up(mode):
    trial = Trial(TINY, kind="layers", input_size=16, batch_size=2, mode=mode, budget_s=0.05, threads=1)
    rows = run_trial(trial)
    leaves = [n for n, _ in leaf_modules(create_model(TINY))]
    assert [r["layer"] for r in rows] == leaves + (["loss", "optimizer"] if mode == "train" else [])
    assert {r["kind"] for r in rows} == {"layers"}
    assert math.isclose(sum(r["layer_time_share"] for r in rows), 1.0)
    assert math.isclose(sum(r["layer_mac_share"] for r in rows if r["layer_mac_share"] is not None), 1.0)
    assert sum(r["layer_macs"] for r in rows) == analyse(TINY, 16).macs
    assert math.isclose(rows[0]["profile_sum_ms"], sum(r["layer_ms_p50"] for r in rows))
    table = {t.name: t for t in layer_table(TINY, 16)}
    for r in rows:
        if r["layer_kind"] in ("conv", "linear"):  # the three counters agree on conv and linear layers
            assert r["layer_macs"] == table[r["layer"]].macs == r["layer_macs_fvcore"] == r["layer_flops_fcm"] / 2
            factor = 3 if mode == "train" else 1
            assert r["layer_flops"] == 2 * r["layer_macs"] * 2 * factor
            assert r["layer_gflops"] == pytest.approx(r["layer_flops"] / (r["layer_ms_p50"] / 1e3) / 1e9)
    conv = next(r for r in rows if r["layer"] == "features.0")
    elem = 4 * (2 if mode == "train" else 1)  # fp32, gradients in train
    assert conv["layer_bytes"] == elem * (8 * 3 * 9 + 8 + 2 * (3 * 16 * 16 + 8 * 16 * 16))
    assert rows[0]["peak_tflops_measured"] > 0 and rows[0]["bandwidth_gbs_measured"] > 0
    assert rows[0]["profile_model_ms_p50"] > 0


def test_profile_cli_writes_table_plots_ledger_and_report_rebuilds(tmp_path, capsys):
    args = ["profile", "8,M,16k5,M", "--head", "gap", "--num-classes", "4", "--input-size", "16",
            "--batch-sizes", "2", "--latency-budget", "0.05", "--threads", "1", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "sum of per-layer medians" in out and "whole-model median" in out
    assert "Compute ledger" in out and "FlopCounterMode" in out
    folder = next(tmp_path.iterdir())
    rows = [json.loads(line) for line in (folder / "rows.jsonl").read_text().splitlines()]
    assert {r["batch_size"] for r in rows} == {2} and {r["kind"] for r in rows} == {"layers"}
    for name in ("layer_roofline", "layer_shares"):
        (folder / "plots" / f"{name}.png").unlink()
    (folder / "summary.md").unlink()
    assert main(["report", str(folder)]) == 0
    assert (folder / "plots" / "layer_roofline.png").is_file() and (folder / "plots" / "layer_shares.png").is_file()
    summary = (folder / "summary.md").read_text()
    assert "Per-layer profile" in summary and "features.3" in summary


def test_profile_cli_bad_input_is_one_line(capsys):
    assert main(["profile", "vgg16", "--mode", "sideways"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown mode sideways")


@pytest.mark.gpu
def test_profile_on_cuda_bf16_channels_last():
    cfg = StepConfig(device="cuda", precision="bf16", channels_last=True, batch_size=8, **{**FAST, "threads": None})
    for mode in ("infer", "train"):
        prof = profile_layers(create_model(TINY), StepConfig(**{**cfg.__dict__, "mode": mode}))
        assert all(min(lay.forward_s) >= 0 for lay in prof.layers)
        total = sum(sorted(lay.total_s)[len(lay.total_s) // 2] for lay in prof.layers)
        assert 0 < total <= 2 * max(prof.step_s)
    rows = run_trial(Trial(TINY, kind="layers", device="cuda", precision="bf16", channels_last=True,
                           input_size=16, batch_size=8, budget_s=0.05))  # fmt: skip
    assert rows[0]["bandwidth_gbs_measured"] > 50 and rows[0]["peak_tflops_measured"] > 1


def test_bench_run_with_layers_metric_writes_layer_rows_and_report(tmp_path):
    # ~10 s on a quiet machine: two isolated trials (infer, train), each a fresh process, as a sweep runs them
    args = ["run", "--archs", "8,M,16k5,M", "--metrics", "layers", "--device", "cpu", "--input-size", "16",
            "--head", "gap", "--batch-sizes", "2", "--latency-budget", "0.05", "--out", str(tmp_path),
            "--quiet"]  # fmt: skip
    assert main(args) == 0
    run_dir = next(tmp_path.iterdir())
    rows = [json.loads(line) for line in (run_dir / "rows.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in rows} == {"layers"}
    # infer: 2 x (conv relu pool), avgpool, dropout, linear; train (the sweep's default modes) adds loss, optimizer
    assert [sum(r["mode"] == m for r in rows) for m in ("infer", "train")] == [9, 11]
    assert "Per-layer profile" in (run_dir / "summary.md").read_text()
    assert (run_dir / "plots" / "layer_roofline.png").is_file()
