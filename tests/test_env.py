import subprocess

import torch

from vggablate.measure import env
from vggablate.smi import smi_query


def _no_context(*args, **kwargs):
    raise AssertionError("torch.cuda.get_device_name would create a CUDA context in this process")


def test_card_name_comes_from_nvidia_smi_before_cuda_starts(monkeypatch):
    calls = []

    def smi(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout="NVIDIA H100 80GB HBM3\n")

    smi_query.cache_clear()
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", _no_context)
    monkeypatch.setattr(env.subprocess, "run", smi)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert env.device_name("cuda:1") == "NVIDIA H100 80GB HBM3"
    assert calls[-1][-2:] == ["-i", "5"]  # torch's cuda:1 is the second visible card
    smi_query.cache_clear()


def test_card_name_is_none_without_nvidia_smi(monkeypatch):
    def missing(cmd, **kwargs):
        raise FileNotFoundError(cmd[0])

    smi_query.cache_clear()
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(env.subprocess, "run", missing)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert env.device_name("cuda") is None
    smi_query.cache_clear()


def test_card_name_from_torch_once_cuda_runs(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: f"card of {device}")
    assert env.device_name("cuda:0") == "card of cuda:0"


def test_load_average_is_an_env_column(monkeypatch):
    monkeypatch.setattr(env.os, "getloadavg", lambda: (3.5, 2.0, 1.0))
    assert env.collect_env("cpu")["env_loadavg_1m"] == 3.5


def _unreadable():
    raise OSError("load average unobtainable")


def test_load_average_is_none_where_the_os_has_none(monkeypatch):
    monkeypatch.setattr(env.os, "getloadavg", _unreadable)
    assert env.load_average() is None
    monkeypatch.delattr(env.os, "getloadavg")  # Windows
    assert env.load_average() is None


def test_available_cpus_follows_the_affinity_mask(monkeypatch):
    monkeypatch.setattr(env.os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert env.available_cpus() == 3
    monkeypatch.delattr(env.os, "sched_getaffinity")
    monkeypatch.setattr(env.os, "cpu_count", lambda: 8)
    assert env.available_cpus() == 8


def test_a_trial_process_may_ask_torch(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "from torch")
    assert env.device_name("cuda", start_cuda=True) == "from torch"


def test_cpu_kernels_are_an_env_column_outside_the_trial_id():
    from dataclasses import replace

    from vggablate import get_arch
    from vggablate.run.trial import Trial, trial_id, trial_settings
    from vggablate.schema import ENV

    columns = env.collect_env("cpu")
    assert columns["env_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert columns["env_cpu_capability"] and list(columns) == list(ENV)
    # Where a figure was computed is recorded beside it, never hashed into what was measured:
    # the same trial on another CPU has the same id, so runs on two machines can be compared.
    trial = Trial(replace(get_arch("vgg11"), head="gap"), input_size=32)
    assert not set(ENV) & set(trial_settings(trial)) and len(trial_id(trial)) == 16
