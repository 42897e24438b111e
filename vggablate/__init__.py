"""vggablate: build, measure and ablate VGG-family CNNs.

Counting convention throughout: 1 MAC = one multiply-add; torchvision's "GFLOPS" are GMACs;
``flops`` = 2 x ``macs``. Names are imported on first use, so that torch-free modules
(records, report, claims) stay torch-free.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "LayerInfo": "arch.analysis", "Totals": "arch.analysis", "analyse": "arch.analysis", "layer_table": "arch.analysis",
    "load_arch_file": "arch.archfile", "read_arch_file": "arch.archfile", "UsageError": "errors",
    "create_model": "arch.factory", "resolve_spec": "arch.factory", "build_model": "arch.model",
    "get_arch": "arch.registry", "list_archs": "arch.registry", "register_arch": "arch.registry",
    "ArchSpec": "arch.spec", "Layer": "arch.spec", "canonical_cfg": "arch.spec", "format_cfg": "arch.spec",
    "parse_cfg": "arch.spec",
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
