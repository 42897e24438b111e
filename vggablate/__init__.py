"""vggablate: build, measure and ablate VGG-family CNNs.

Counting convention throughout: 1 MAC = one multiply-add; torchvision's "GFLOPS" are GMACs;
``flops`` = 2 x ``macs``. Names are imported on first use, so that torch-free modules
(records, report, claims) stay torch-free.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "LayerInfo": "analysis", "Totals": "analysis", "analyse": "analysis", "layer_table": "analysis",
    "load_arch_file": "archfile", "read_arch_file": "archfile", "UsageError": "errors",
    "create_model": "factory", "resolve_spec": "factory", "build_model": "model",
    "get_arch": "registry", "list_archs": "registry", "register_arch": "registry",
    "ArchSpec": "spec", "Layer": "spec", "canonical_cfg": "spec", "format_cfg": "spec", "parse_cfg": "spec",
}  # fmt: skip
__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """Import an exported name on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vggablate' has no attribute {name!r}")
    return getattr(importlib.import_module(f"vggablate.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    """List the exported names."""
    return __all__
