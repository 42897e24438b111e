from dataclasses import fields, replace

import pytest
import torch

import vggablate.run.execute as trial_mod
from vggablate import UsageError, get_arch
from vggablate.run.execute import decay_batch_step, run_batch_sweep, run_trial, run_trial_isolated
from vggablate.run.trial import Trial, trial_id

IDENTITY = (
    "trial_id kind arch cfg batch_norm width head num_classes in_channels dropout matched input_size device precision "
    "channels_last compile cudnn_benchmark mode batch_size seed dataset error error_type duration_s timestamp"
).split()
ENV = (
    "env_torch env_torchvision env_cuda env_cudnn env_device_name env_cpu env_cpu_capability env_threads env_git_rev "
    "env_hostname "
    "env_python env_platform env_loadavg_1m"
).split()
FIGURES = {
    "counts": "params params_trainable params_conv params_classifier weight_mb_fp32 weight_mb_bf16 macs flops "
    "macs_conv macs_classifier macs_other activations conv_layers stage_params stage_macs",
    "latency": "latency_ms_p50 latency_ms_p10 latency_ms_p90 latency_ms_q25 latency_ms_q75 latency_ms_iqr "
    "latency_ms_mean latency_ms_std latency_n latency_samples_ms throughput_ips gflops_achieved peak_tflops_spec "
    "peak_tflops_measured mfu_vs_spec util_vs_measured_gemm compile_s threads",
    "memory": "mem_weights_mb mem_peak_alloc_mb mem_peak_reserved_mb mem_rss_peak_mb mem_analytic_mb "
    "mem_analytic_weights_mb mem_analytic_activations_mb mem_analytic_grads_mb mem_analytic_optimizer_mb",
}
SPEC = replace(get_arch("vgg11_bn"), width=0.125, head="gap")
BASE = Trial(SPEC, input_size=32, batch_size=2, budget_s=0.2, threads=1)


def test_trial_id_changes_with_every_setting():
    other = {"kind": "latency", "input_size": 64, "device": "cuda", "precision": "bf16", "channels_last": True}
    other |= {"compile": True, "cudnn_benchmark": True, "mode": "train", "batch_size": 3, "seed": 1}
    other |= {"dataset": "cifar10", "budget_s": 1.0, "target_rel_ci": 0.5, "threads": 2, "train": {"epochs": 1}}
    other["spec"] = replace(SPEC, width=0.25)
    assert set(other) | {"data_dir", "download", "planned_as"} == {f.name for f in fields(Trial)}
    ids = {trial_id(replace(BASE, **{k: v})) for k, v in other.items()}
    assert len(ids | {trial_id(BASE)}) == len(other) + 1
    assert trial_id(BASE) == trial_id(replace(BASE, spec=replace(SPEC, description="renamed")))
    # Where the data lives is not what was measured: moving the cache keeps the id (and resume).
    assert trial_id(BASE) == trial_id(replace(BASE, data_dir="/elsewhere"))
    # Nor is whether a missing data set may be fetched: --no-download keeps the id (and resume).
    assert trial_id(BASE) == trial_id(replace(BASE, download=False))


def test_env_is_read_before_the_trial_runs(monkeypatch):
    # The load average must be the machine's before the trial, not one the trial's own work raised.
    calls = []
    monkeypatch.setattr(trial_mod, "collect_env", lambda device, **kw: calls.append("env") or {"env_x": 1})
    monkeypatch.setitem(trial_mod.RUNNERS, "counts", lambda trial: calls.append("figures") or [{"params": 1}])
    (row,) = run_trial(BASE)
    assert calls == ["env", "figures"] and row["env_x"] == 1 and row["params"] == 1


def test_accuracy_trial_passes_download(monkeypatch):
    import vggablate.data as data_mod
    import vggablate.training.trainer as train_mod
    from vggablate.run.trial import fit_trial

    seen = {}
    monkeypatch.setattr(data_mod, "load_dataset", lambda *a, **kw: seen.update(kw) or "data")
    monkeypatch.setattr(train_mod, "run_row", lambda *a, **kw: {"top1": 1.0})
    trial = fit_trial(Trial(SPEC, kind="accuracy", dataset="cifar10", mode="train"))
    assert trial_mod._accuracy(trial) == [{"top1": 1.0}] and seen["download"] is True
    trial_mod._accuracy(replace(trial, download=False))
    assert seen["download"] is False


def test_counts_row_in_a_fresh_process_has_the_schema_columns():
    (row,) = run_trial_isolated(BASE, timeout_s=120)
    assert list(row) == IDENTITY + ENV + FIGURES["counts"].split()
    assert row["trial_id"] == trial_id(BASE)  # computed in the worker: stable across processes
    assert (row["error"], row["error_type"], row["kind"]) == (None, None, "counts")
    assert isinstance(row["stage_macs"], list) and row["macs"] == sum(row["stage_macs"]) + 64 * 1000
    assert row["env_threads"] == 1 and row["env_torch"] == torch.__version__


def test_latency_row():
    (row,) = run_trial(replace(BASE, kind="latency", mode="train"))
    assert list(row) == IDENTITY + ENV + FIGURES["latency"].split()
    assert row["latency_n"] == len(row["latency_samples_ms"]) >= 5
    assert row["throughput_ips"] == pytest.approx(2 / (row["latency_ms_p50"] / 1e3))
    assert row["util_vs_measured_gemm"] > 0 and row["mfu_vs_spec"] is None and row["threads"] == 1


def test_memory_row():
    # In-process the figures are not clean (test_memory measures in a fresh process); the columns are.
    (row,) = run_trial(replace(BASE, kind="memory", mode="train"))
    assert list(row) == IDENTITY + ENV + FIGURES["memory"].split()
    assert row["mem_rss_peak_mb"] >= 0 and row["mem_peak_alloc_mb"] is None


def test_out_of_memory_is_a_row():
    (row,) = run_trial_isolated(replace(BASE, kind="latency", batch_size=10**8), timeout_s=120)
    # Refused from the shapes before allocating (vggablate.arch.footprint), and still an `oom` row.
    assert row["error_type"] == "oom" and "needs" in row["error"] and "available" in row["error"]
    assert list(row) == IDENTITY + ENV


def test_timeout_is_one_error_row_with_identity():
    rows = run_trial_isolated(replace(BASE, kind="latency"), timeout_s=0.2)
    assert len(rows) == 1 and rows[0]["error_type"] == "timeout"
    assert rows[0]["trial_id"] == trial_id(replace(BASE, kind="latency")) and "latency_ms_p50" not in rows[0]


def test_bad_settings_raise_before_any_process():
    with pytest.raises(UsageError, match="unknown trial kind .speed.; choose from counts"):
        run_trial_isolated(replace(BASE, kind="speed"))
    with pytest.raises(UsageError, match="tf32"):
        run_trial(replace(BASE, precision="tf32"))
    with pytest.raises(UsageError, match="batch size"):
        run_trial(replace(BASE, batch_size=0))
    with pytest.raises(UsageError, match="too small"):
        run_trial(replace(BASE, input_size=16))
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="--device cpu"):
            run_trial(replace(BASE, device="cuda"))


def test_decay_follows_timm():
    sizes = [256]
    while sizes[-1] > 0:
        sizes.append(decay_batch_step(sizes[-1]))
    assert sizes[:8] == [256, 192, 128, 96, 64, 48, 32, 24] and sizes[-3:] == [2, 1, 0]


def test_sweep_goes_on_after_oom_and_decays(monkeypatch):
    def fake(trial, timeout_s):
        oom = trial.batch_size > 48
        return [{"batch_size": trial.batch_size, "error_type": "oom" if oom else None}]

    monkeypatch.setattr(trial_mod, "run_trial_isolated", fake)
    got = [r["batch_size"] for r in run_batch_sweep(BASE, [8, 128, 16], decay_on_oom=True)]
    assert got == [8, 128, 96, 64, 48, 16]
    assert [r["batch_size"] for r in run_batch_sweep(BASE, [128, 8])] == [128, 8]


@pytest.mark.gpu
def test_cuda_oom_is_a_row():
    trial = replace(BASE, kind="memory", device="cuda", mode="train", batch_size=1 << 16, input_size=224)
    (row,) = run_trial_isolated(replace(trial, spec=get_arch("vgg16")), timeout_s=300)
    assert row["error_type"] == "oom"


PARENT_CONTEXT = """
import torch
from dataclasses import replace
from vggablate import get_arch
from vggablate.run.trial import Trial
from vggablate.run.execute import error_row, run_trial_isolated
trial = Trial(replace(get_arch("vgg11"), width=0.125, head="gap"), kind="memory", device="cuda", input_size=32)
(row,) = run_trial_isolated(trial, timeout_s=300)
error_row(trial, "x", "exception", 0.0)
print(row["error"], row["env_device_name"], torch.cuda.is_initialized(), sep="|")
"""


@pytest.mark.gpu
def test_sweep_parent_creates_no_cuda_context():
    # A context in the parent would cost every trial process hundreds of MiB of the card.
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", PARENT_CONTEXT], capture_output=True, text=True, check=True)
    error, name, initialized = out.stdout.strip().split("|")
    assert (error, name, initialized) == ("None", torch.cuda.get_device_name(), "False")


def test_accuracy_row_carries_the_trained_form():
    from vggablate.run.trial import fit_trial, identity
    from vggablate.training.recipe import TrainConfig

    recipe = TrainConfig(steps=3, batch_size=16, warmup_epochs=0, width=0.0625)
    trial = Trial(get_arch("vgg11"), kind="accuracy", dataset="digits", train=recipe, mode="train")
    (row,) = run_trial(trial)
    assert row["trial_id"] == trial_id(trial) and row["kind"] == "accuracy" and row["error"] is None
    # The trial is fitted to the data: 10 classes, gap head on 32px, the recipe's width and batch size.
    assert (row["num_classes"], row["head"], row["width"], row["input_size"]) == (10, "gap", 0.0625, 32)
    # One identity: the row's columns are the fitted trial's own, and its id is the trial's as planned.
    fitted = fit_trial(trial)
    assert fitted.planned_as == trial and trial_id(fitted) == trial_id(trial) and fitted.batch_size == 16
    shown = {k: v for k, v in identity(fitted, "", 0.0).items() if k not in ("duration_s", "timestamp")}
    assert {k: row[k] for k in shown} == shown
    assert 0 <= row["top1"] <= 100 and row["steps"] == 3
    from vggablate import analyse

    trained = replace(get_arch("vgg11"), num_classes=10, head="gap", width=0.0625)
    assert row["macs"] == analyse(trained, 32).macs and row["params"] == analyse(trained, 32).params
