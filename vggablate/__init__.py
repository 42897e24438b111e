"""vggablate: build, measure and ablate VGG-family CNNs.

Counting convention throughout: 1 MAC = one multiply-add; torchvision's "GFLOPS" are GMACs;
``flops`` = 2 x ``macs``.
"""

from vggablate import archs as _archs  # noqa: F401  (registers the standard archs)
from vggablate.analysis import LayerInfo, Totals, analyse, layer_table
from vggablate.archfile import load_arch_file, read_arch_file
from vggablate.errors import UsageError
from vggablate.factory import create_model, resolve_spec
from vggablate.model import build_model
from vggablate.registry import get_arch, list_archs, register_arch
from vggablate.spec import ArchSpec, Layer, canonical_cfg, format_cfg, parse_cfg

__all__ = [
    "ArchSpec",
    "Layer",
    "LayerInfo",
    "Totals",
    "UsageError",
    "analyse",
    "build_model",
    "canonical_cfg",
    "create_model",
    "format_cfg",
    "get_arch",
    "layer_table",
    "list_archs",
    "load_arch_file",
    "parse_cfg",
    "read_arch_file",
    "register_arch",
    "resolve_spec",
]
__version__ = "0.1.0"
