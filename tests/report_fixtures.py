"""A small, realistic rows list covering every kind, for the records and report tests (no torch).

Counts are the analytic totals of the registered archs (``python -m bench show``); latency,
memory and accuracy figures are tiny-realistic values of an H100 run and a 10-epoch CIFAR-10
training: not measurements, but shaped like them.
"""

from __future__ import annotations

import math

from vggablate.arch.factory import resolve_spec
from vggablate.run.trial import Trial, identity, trial_id

ARCHS = ("vgg11", "vgg13", "vgg13_k5", "vgg16")
CONV_LAYERS = {"vgg11": 8, "vgg13": 10, "vgg13_k5": 5, "vgg16": 13}
# (params_conv, macs_conv, stage_params, stage_macs) at 224 (imagenet head, 1000 classes).
COUNTS_224 = {
    "vgg11": (9220480, 7485456384, [1792, 73856, 885248, 3539968, 4719616],
              [86704128, 924844032, 2774532096, 2774532096, 924844032]),
    "vgg13": (9404992, 11184832512, [38720, 221440, 885248, 3539968, 4719616],
              [1936392192, 2774532096, 2774532096, 2774532096, 924844032]),
    "vgg13_k5": (10860672, 9232384000, [4864, 204928, 819456, 3277312, 6554112],
                 [240844800, 2569011200, 2569011200, 2569011200, 1284505600]),
    "vgg16": (14714688, 15346630656, [38720, 221440, 1475328, 5899776, 7079424],
              [1936392192, 2774532096, 4624220160, 4624220160, 1387266048]),
}  # fmt: skip
IMAGENET_CLASSIFIER = (123642856, 123633664)  # params, MACs of 25088-4096-4096-1000
GAP_CLASSIFIER = (5130, 5120)  # 512 -> 10
BATCH_SIZES = (1, 8, 32, 128)
TOP1 = {"vgg11": 88.1, "vgg13": 89.6, "vgg13_k5": 89.2, "vgg16": 90.3}  # CIFAR-10, 10 epochs
SEED_NOISE = (0.0, 0.31, -0.22)
EPOCHS = 10
ENV = {
    "env_torch": "2.5.1+cu124",
    "env_torchvision": "0.20.1+cu124",
    "env_cuda": "12.4",
    "env_cudnn": "90100",
    "env_device_name": "NVIDIA H100 80GB HBM3",
    "env_cpu": "Intel(R) Xeon(R) Platinum 8480+",
    "env_cpu_capability": "AVX512",
    "env_threads": 16,
    "env_git_rev": "dacf0e3",
    "env_hostname": "gpu-node-07",
    "env_python": "3.11.9",
    "env_platform": "Linux-5.15.0-x86_64-with-glibc2.35",
    "env_loadavg_1m": 0.25,
}


def _trial(kind: str, arch: str, size: int = 224, **settings: object) -> Trial:
    """Return the Trial of a row: a registered arch (gap head and 10 classes at 32 px) on the H100."""
    spec = resolve_spec(arch, head="gap", num_classes=10) if size == 32 else resolve_spec(arch)
    return Trial(spec, kind=kind, input_size=size, device="cuda", **settings)


def _base(kind: str, arch: str, size: int = 224, duration_s: float = 1.5, **settings: object) -> dict:
    # The schema's own identity columns (and sha256 trial id) of a real Trial, as every producer writes them.
    row = identity(_trial(kind, arch, size, **settings), "2025-05-01T10:00:00+00:00", duration_s)
    return {**row, "attempt": 0, **ENV}


def counts_row(arch: str, size: int = 224) -> dict:
    """Return the counts row of an arch at 224 (imagenet head) or 32 (gap head, 10 classes)."""
    p_conv, m_conv, stage_p, stage_m = COUNTS_224[arch]
    scale = (size / 224) ** 2  # conv MACs scale with the feature-map area
    stage_m = [round(m * scale) for m in stage_m]
    m_conv = sum(stage_m)
    p_cls, m_cls = GAP_CLASSIFIER if size == 32 else IMAGENET_CLASSIFIER
    params, macs = p_conv + p_cls, m_conv + m_cls
    return _base("counts", arch, size) | {
        "params": params, "params_trainable": params, "params_conv": p_conv, "params_classifier": p_cls,
        "weight_mb_fp32": params * 4 / 2**20, "weight_mb_bf16": params * 2 / 2**20, "macs": macs,
        "flops": 2 * macs, "macs_conv": m_conv, "macs_classifier": m_cls, "macs_other": round(macs * 0.004),
        "activations": round(macs / 480), "conv_layers": CONV_LAYERS[arch], "stage_params": stage_p,
        "stage_macs": stage_m,
    }  # fmt: skip


def _macs(arch: str) -> int:
    return COUNTS_224[arch][1] + IMAGENET_CLASSIFIER[1]


def latency_rows(arch: str, precision: str, mode: str) -> list[dict]:
    """Return one latency row per batch size; vgg16 training at 128 runs out of memory."""
    rate = {"fp32": 45e12, "bf16": 260e12}[precision] / (3 if mode == "train" else 1)  # effective FLOP/s
    rows = []
    for bs in BATCH_SIZES:
        base = _base("latency", arch, precision=precision, mode=mode, batch_size=bs)
        if arch == "vgg16" and mode == "train" and bs == 128:
            rows.append(base | _oom(bs))
            continue
        ms = 0.9 + 1e3 * bs * 2 * _macs(arch) / rate
        samples = [ms * (1 + 0.01 * math.sin(i)) for i in range(20)]
        srt = sorted(samples)
        rows.append(
            base | {
                "latency_ms_p50": (srt[9] + srt[10]) / 2, "latency_ms_p10": srt[2], "latency_ms_p90": srt[17],
                "latency_ms_q25": srt[5], "latency_ms_q75": srt[14], "latency_ms_iqr": srt[14] - srt[5],
                "latency_ms_mean": sum(samples) / 20, "latency_ms_std": 0.007 * ms, "latency_n": 20,
                "latency_samples_ms": samples, "throughput_ips": bs / ms * 1e3,
                "gflops_achieved": bs * 2 * _macs(arch) / ms / 1e6, "peak_tflops_spec": 989.0 if precision ==
                "bf16" else 67.0, "peak_tflops_measured": None, "mfu_vs_spec": None,
                "util_vs_measured_gemm": None, "compile_s": None, "threads": 16,
            }
        )  # fmt: skip
    return rows


def _oom(bs: int) -> dict:
    msg = f"CUDA out of memory. Tried to allocate {bs * 98} MiB (GPU 0; 79.10 GiB total capacity)"
    return {"error": msg, "error_type": "oom", "duration_s": 0.8}


def memory_rows(arch: str, mode: str) -> list[dict]:
    """Return one bf16 memory row per batch size; vgg16 training at 128 runs out of memory."""
    params = COUNTS_224[arch][0] + IMAGENET_CLASSIFIER[0]
    weights = params * 2 / 2**20
    act = _macs(arch) / 1e9 * (9.0 if mode == "train" else 1.6)  # MB per image
    rows = []
    for bs in BATCH_SIZES:
        base = _base("memory", arch, precision="bf16", mode=mode, batch_size=bs)
        if arch == "vgg16" and mode == "train" and bs == 128:
            rows.append(base | _oom(bs))
            continue
        grads, opt = (weights, 2 * weights) if mode == "train" else (0.0, 0.0)
        analytic = weights + bs * act + grads + opt
        rows.append(
            base | {
                "mem_weights_mb": weights, "mem_peak_alloc_mb": analytic * 1.08,
                "mem_peak_reserved_mb": analytic * 1.2, "mem_rss_peak_mb": None, "mem_analytic_mb": analytic,
                "mem_analytic_weights_mb": weights, "mem_analytic_activations_mb": bs * act,
                "mem_analytic_grads_mb": grads, "mem_analytic_optimizer_mb": opt,
            }
        )  # fmt: skip
    return rows


def accuracy_row(arch: str, seed: int) -> dict:
    """Return one CIFAR-10 training row with its per-epoch curve."""
    final = TOP1[arch] + SEED_NOISE[seed] * (1 + 0.4 * ARCHS.index(arch))
    curve = [
        {
            "epoch": e,
            "train_loss": 2.0 * math.exp(-e / (2.6 + 0.25 * CONV_LAYERS[arch] / 5)) + 0.04 + 0.01 * seed,
            "test_top1": final - (final - 35.0) * math.exp(-(e - 1) / 2.2) + 0.1 * ((e + seed) % 2),
        }
        for e in range(1, EPOCHS + 1)
    ]
    curve[-1]["test_top1"] = final
    trained = counts_row(arch, 32)  # an accuracy row carries the size of the network it trained
    return _base("accuracy", arch, 32, seed=seed, dataset="cifar10", precision="bf16", mode="train",
                 duration_s=95.0) | {
        "params": trained["params"], "macs": trained["macs"], "flops": trained["flops"],
        "top1": final, "top5": 99.4 + 0.05 * seed, "train_loss": curve[-1]["train_loss"],
        "train_time_s": 80.0 + 6 * CONV_LAYERS[arch], "train_ips": 50000 * EPOCHS / (80.0 + 6 * CONV_LAYERS[arch]),
        "time_to_target_s": None, "target_top1": None, "epochs": EPOCHS, "steps": 98 * EPOCHS,
        "train_batch_size": 512, "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4, "label_smoothing": 0.0,
        "schedule": "linear", "warmup_epochs": 1, "curve": curve,
    }  # fmt: skip


def crashed_row() -> dict:
    """Return a vgg16 training trial (seed 3) whose worker was killed."""
    row = _base("accuracy", "vgg16", 32, seed=3, dataset="cifar10", precision="bf16", mode="train", duration_s=412.0)
    return row | {"error": "worker process died with signal 9 (SIGKILL)", "error_type": "crash"}


def fixture_rows() -> list[dict]:
    """Return the whole run: counts at 224 and 32, latency, memory, accuracy and failures."""
    rows: list[dict] = []
    for arch in ARCHS:
        rows += [counts_row(arch, 224), counts_row(arch, 32)]
        for precision, mode in (("fp32", "infer"), ("bf16", "infer"), ("bf16", "train")):
            rows += latency_rows(arch, precision, mode)
        rows += memory_rows(arch, "infer") + memory_rows(arch, "train")
        rows += [accuracy_row(arch, seed) for seed in range(3)]
    return rows + layers_rows("vgg11") + [crashed_row()]


def layers_rows(arch: str, batch: int = 8) -> list[dict]:
    """Return a per-layer profile (kind ``layers``) of conv, pool and linear layers: shaped like one, not measured."""
    from vggablate.arch.analysis import layer_table
    from vggablate.arch.registry import get_arch

    table = [r for r in layer_table(get_arch(arch), 224) if r.kind in ("conv", "pool", "linear")]
    ms = [1.0 + r.macs / 2e9 if r.macs else 0.3 for r in table]  # conv time ~ MACs; pools memory-bound
    macs_total = sum(r.macs for r in table)
    base = _base("layers", arch, batch_size=batch)
    setting = {"profile_sum_ms": sum(ms), "profile_model_ms_p50": sum(ms) * 1.04, "profile_step_ms_p50": sum(ms),
               "peak_tflops_measured": 50.0, "peak_tflops_spec": 67.0, "bandwidth_gbs_measured": 2900.0,
               "bandwidth_gbs_spec": 3350.0, "threads": 16}  # fmt: skip
    rows = []
    for i, (r, t) in enumerate(zip(table, ms)):
        flops = 2 * r.macs * batch
        nbytes = 4 * (r.params + batch * 2 * math.prod(r.out_shape))
        rows.append(base | setting | {
            "layer_index": i, "layer": r.name, "layer_kind": r.kind, "layer_stage": r.stage, "layer_kernel": r.kernel,
            "layer_in_shape": [r.in_channels], "layer_out_shape": list(r.out_shape), "layer_params": r.params,
            "layer_macs": r.macs, "layer_macs_fvcore": r.macs, "layer_flops_fcm": 2 * r.macs,
            "layer_bytes": nbytes, "layer_intensity": flops / nbytes, "layer_ms_p50": t, "layer_ms_q25": t * 0.98,
            "layer_ms_q75": t * 1.03, "layer_ms_iqr": t * 0.05, "layer_fwd_ms_p50": t, "layer_bwd_ms_p50": None,
            "layer_n": 40, "layer_time_share": t / sum(ms), "layer_mac_share": r.macs / macs_total,
            "layer_flops": flops, "layer_gflops": flops / t / 1e6 or None, "layer_util_gemm": flops / t / 5e13 or None,
        })  # fmt: skip
    return rows


def counts_only_rows() -> list[dict]:
    """Return a run with only counts rows (224) of two archs."""
    return [counts_row("vgg11"), counts_row("vgg16")]


def failed_training_row() -> dict:
    """Return a CIFAR-10 training trial that failed before training: its identity columns keep the sweep's
    latency defaults (batch 1, 224px, 1000 classes), not the recipe's, as real rows do."""
    row = _base("accuracy", "vgg11", 224, seed=0, mode="train", batch_size=1, dataset="cifar10", duration_s=3.6)
    return row | {"error": "URLError: <urlopen error [Errno -2] Name or service not known>", "error_type": "exception"}


def cpu_env(row: dict) -> dict:
    """Return the row as a CPU run records it: the device name is the CPU's."""
    cpu = "AMD EPYC 7763 64-Core Processor"
    return row | {"device": "cpu", "env_device_name": cpu, "env_cpu": cpu, "env_cuda": None, "env_cudnn": None}


def seed_rows(arch: str, top1s: list[float]) -> list[dict]:
    """Return one accuracy row per seed with the given final top-1 (curves end at it)."""
    rows = []
    for seed, top1 in enumerate(top1s):
        row = accuracy_row(arch, seed % len(SEED_NOISE)) | {"seed": seed, "top1": top1}
        row["trial_id"] = trial_id(_trial("accuracy", arch, 32, seed=seed))  # resume keys on it: one per seed
        row["curve"] = [dict(p) for p in row["curve"]]
        for p in row["curve"]:
            p["test_top1"] = top1 * p["epoch"] / EPOCHS
        rows.append(row)
    return rows
