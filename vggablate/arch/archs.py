"""The registered archs: torchvision's eight, the paper's A-LRN and C, and the large-kernel ablations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace

from vggablate.arch.rewrite import large_kernel, match_compute
from vggablate.arch.spec import ArchSpec, parse_cfg

# torchvision's cfgs (and the paper's Table 1): A=vgg11, B=vgg13, D=vgg16, E=vgg19.
TORCHVISION_CFGS = {
    "vgg11": "64,M,128,M,256x2,M,512x2,M,512x2,M",
    "vgg13": "64x2,M,128x2,M,256x2,M,512x2,M,512x2,M",
    "vgg16": "64x2,M,128x2,M,256x3,M,512x3,M,512x3,M",
    "vgg19": "64x2,M,128x2,M,256x4,M,512x4,M,512x4,M",
}
# The archs torchvision publishes (and ImageNet weights for): each cfg plain and with BatchNorm.
TORCHVISION_ARCHS = tuple(name + bn for name in TORCHVISION_CFGS for bn in ("", "_bn"))
CFGS = {
    **TORCHVISION_CFGS,
    # A-LRN: A with LRN after the first conv (and its ReLU), before the pool.
    "vgg11_lrn": "64,LRN,M,128,M,256x2,M,512x2,M,512x2,M",
    # C: D with the third conv of each of the last three stacks a 1x1.
    "vgg16_c": "64x2,M,128x2,M,256x2,256k1,M,512x2,512k1,M,512x2,512k1,M",
}
PAPER = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E", "vgg11_lrn": "A-LRN", "vgg16_c": "C"}
# (base, kernel cap): vgg13_k5 is the paper's "shallow B" (Sect. 4.1).
LARGE_KERNEL = [("vgg13", 5), ("vgg16", 5), ("vgg16", 7), ("vgg19", 5), ("vgg19", 7)]
# Each large-kernel arch -> its 3x3 original: vgg13_k5 and vgg13_k5_cm -> vgg13, vgg16_k7_bn -> vgg16_bn.
LARGE_KERNEL_BASE = {
    f"{base}_k{cap}{cm}{bn}": base + bn for base, cap in LARGE_KERNEL for bn in ("", "_bn") for cm in ("", "_cm")
}


def _base(name: str, batch_norm: bool) -> ArchSpec:
    suffix = "_bn" if batch_norm else ""
    return ArchSpec(
        name=name + suffix,
        cfg=parse_cfg(CFGS[name]),
        batch_norm=batch_norm,
        description=f"paper config {PAPER[name]}" + (" with BatchNorm" if batch_norm else ""),
    )


def _large(base: str, cap: int, batch_norm: bool) -> ArchSpec:
    spec = _base(base, batch_norm)
    return large_kernel(spec, cap, name=f"{base}_k{cap}" + ("_bn" if batch_norm else ""))


@functools.cache  # the width search analyses the net 60 times (~10 ms): once per process is enough
def _matched(base: str, cap: int, batch_norm: bool) -> ArchSpec:
    spec = match_compute(_large(base, cap, batch_norm), _base(base, batch_norm), by="macs")
    return replace(spec, name=f"{base}_k{cap}_cm" + ("_bn" if batch_norm else ""))


def builtin_archs() -> dict[str, Callable[[], ArchSpec]]:
    """Return the standard archs' builders by name, for the registry to start from."""
    builders: dict[str, Callable[[], ArchSpec]] = {}
    for bn in (False, True):
        suffix = "_bn" if bn else ""
        for name in CFGS:
            builders[name + suffix] = functools.partial(_base, name, bn)
        for base, cap in LARGE_KERNEL:
            builders[f"{base}_k{cap}{suffix}"] = functools.partial(_large, base, cap, bn)
            builders[f"{base}_k{cap}_cm{suffix}"] = functools.partial(_matched, base, cap, bn)
    return builders
