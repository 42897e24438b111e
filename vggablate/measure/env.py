"""The environment a figure was measured in: the ``env_*`` row columns."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path

import torch

from vggablate.smi import smi_query


def collect_env(device: str = "cpu", start_cuda: bool = False) -> dict:
    """Return the env_* columns: library versions, device, CPU and its kernels, threads, git revision, host, load.

    ``start_cuda``: a trial process that will use CUDA anyway may ask torch for the card's name;
    any other process (a sweep's parent) asks nvidia-smi, so as not to hold a CUDA context.
    """
    cuda = torch.cuda.is_available()
    return {
        "env_torch": torch.__version__,
        "env_torchvision": _version("torchvision"),
        "env_cuda": torch.version.cuda if cuda else None,
        "env_cudnn": torch.backends.cudnn.version() if cuda else None,
        "env_device_name": device_name(device, start_cuda) if device.startswith("cuda") and cuda else cpu_name(),
        "env_cpu": cpu_name(),
        # The SIMD kernels torch dispatches to on this CPU (AVX2, AVX512, ...): with the CPU model,
        # what decides whether two CPU runs can agree bit for bit (README, "Reproducibility").
        "env_cpu_capability": cpu_capability(),
        "env_threads": torch.get_num_threads(),
        "env_git_rev": git_revision(),
        "env_hostname": socket.gethostname(),
        "env_python": platform.python_version(),
        "env_platform": platform.platform(),
        "env_loadavg_1m": load_average(),
    }


def load_average() -> float | None:
    """Return the 1-minute load average (runnable processes, all CPUs); None where the OS has none."""
    # Contention inflates CPU latency many times over (docs/benchmarks.md, "Timer agreement"): the
    # column lets a report tell a slow model from a busy machine.
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows has no getloadavg
        return None


def available_cpus() -> int:
    """Return the CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def device_name(device: str = "cuda", start_cuda: bool = False) -> str | None:
    """Return the CUDA card's name; without start_cuda, create no CUDA context where none exists yet."""
    if start_cuda or torch.cuda.is_initialized():
        return torch.cuda.get_device_name(device)
    # Asking torch would create a context here (hundreds of MiB on the card): a sweep's parent
    # process would hold one for the whole run and every trial process would get that much less.
    return _smi_name(torch.device(device).index or 0)


def _smi_name(index: int) -> str | None:
    """Return nvidia-smi's name for the index-th visible card; None where nvidia-smi fails."""
    return smi_query(index, "name")


@functools.lru_cache(maxsize=1)
def cpu_name() -> str:
    """Return the CPU model name (Linux /proc/cpuinfo; else platform's guess)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_capability() -> str | None:
    """Return the CPU kernel set torch dispatches to (torch.backends.cpu.get_cpu_capability()); None if unknown."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except (AttributeError, RuntimeError):  # older torch builds lack it
        return None


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """Return the project's git commit, with "+dirty" for uncommitted changes; None without git."""
    repo = Path(__file__).resolve().parents[2]  # vggablate/measure/env.py -> the checkout
    try:
        rev = _git(repo, "rev-parse", "HEAD").stdout.strip()
        dirty = _git(repo, "status", "--porcelain", "--untracked-files=no").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not rev:
        return None
    return rev + ("+dirty" if dirty else "")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10, check=True)


def _version(package: str) -> str | None:
    # Importing torchvision only for its version would cost ~2 s per trial process (it imports dynamo).
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
