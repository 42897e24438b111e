"""Ask nvidia-smi about a visible card without torch, so no CUDA context is created in this process."""

from __future__ import annotations

import functools
import os
import subprocess


@functools.lru_cache(maxsize=16)
def smi_query(index: int, field: str) -> str | None:
    """Return nvidia-smi's ``field`` (e.g. name, memory.total) for the index-th visible card; None where it fails."""
    visible = [v for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    target = visible[index].strip() if index < len(visible) else str(index)
    cmd = ["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader,nounits", "-i", target]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0].strip() if out else None
