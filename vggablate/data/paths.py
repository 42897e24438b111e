"""Where data sets are cached: no torch, so the catalog and the light commands can ask."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> str:
    """Return the cache folder for downloaded data sets ($VGGABLATE_DATA or ~/.cache/vggablate)."""
    return os.environ.get("VGGABLATE_DATA") or str(Path.home() / ".cache" / "vggablate")
