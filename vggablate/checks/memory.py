"""Refuse work whose tensors cannot fit, before allocating them: from shapes, not from a failed malloc.

A trial that asks for 52 TiB should be one line before any work, not a minute of work and then an
allocator error (or, on Linux with overcommit, the OOM killer taking other processes with it). This
module reads the limit and words the refusal; the estimates are the tensors alone, from the analytic
shapes (vggablate.arch.footprint, no torch): a lower bound of what the step needs, so a refusal is
certain to be right; what is close to the limit is left to run (vggablate.run.memcheck, per trial).

Limits: on CPU the kernel's MemAvailable (/proc/meminfo; psutil where installed, elsewhere); on
CUDA the card's total memory (nvidia-smi, or torch where this process already holds a context).
Where no limit can be read, nothing is refused.
"""

from __future__ import annotations

from pathlib import Path

from vggablate.errors import UsageError

# sklearn's digits: 1,797 images; the fixed stratified 20% test split (clutter.py) leaves 1,437 and 360.
DIGITS_TRAIN, DIGITS_TEST = 1437, 360


class MemoryLimitError(UsageError, MemoryError):
    """Estimated to need more memory than the machine has: a usage error (CLI: exit 2), and an OOM in a trial."""


def clutter_bytes(canvas: int, digit: int, patches: int, patch: int, placements: int, test_placements: int) -> int:
    """Estimate the peak bytes of building the cluttered-digits task (both splits, uint8, with temporaries)."""
    # Per image: the canvas, the gathered windows and crops of make_split, int64 coordinates and sources.
    per_image = canvas**2 + 3 * digit**2 + 3 * patch**2 + 16 * (digit + patch) + 8 * (1 + patches) + 64
    return (DIGITS_TRAIN * placements + DIGITS_TEST * test_placements) * per_image


def available_bytes(device: str = "cpu") -> int | None:
    """Return the memory a new allocation can use on the device, in bytes; None where it cannot be read."""
    if device.startswith("cuda"):
        return _cuda_total(device)
    return _host_available()


def _host_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def _cuda_total(device: str) -> int | None:
    import torch

    index = torch.device(device).index or 0
    if torch.cuda.is_initialized():  # asking torch otherwise would create a context here (measure/env.py)
        return int(torch.cuda.mem_get_info(index)[1])
    return _smi_total(index)


def _smi_total(index: int) -> int | None:
    from vggablate.smi import smi_query

    text = smi_query(index, "memory.total")
    try:
        return int(float(text)) * 2**20 if text else None  # MiB
    except ValueError:
        return None


def human_bytes(n: float) -> str:
    """Format a byte count with binary units (52 TiB, 23 GiB, 512 MiB)."""
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def check_fits(needed: int, what: str, device: str = "cpu", fix: str = "", limit: int | None = None) -> None:
    """Raise MemoryLimitError when ``needed`` bytes exceed what the device has (given, or read now)."""
    limit = available_bytes(device) if limit is None else limit
    if limit is None or needed <= limit:
        return
    cuda = device.startswith("cuda")
    where = (
        f"the GPU ({device}) has {human_bytes(limit)} in total"
        if cuda
        else f"this machine has {human_bytes(limit)} available"
    )
    raise MemoryLimitError(f"{what} needs {human_bytes(needed)}; {where}{'; ' + fix if fix else ''}")
