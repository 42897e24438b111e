import re

import pytest

import vggablate
from vggablate import get_arch, list_archs, register_arch
from vggablate.arch.archs import LARGE_KERNEL_BASE, PAPER, TORCHVISION_ARCHS, TORCHVISION_CFGS
from vggablate.arch.registry import _ARCHS
from vggablate.arch.rewrite import merge_kernels
from vggablate.arch.spec import ArchSpec, parse_cfg
from vggablate.errors import UsageError

STANDARD = [f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")]


def test_standard_and_paper_archs_registered():
    names = set(list_archs())
    assert set(STANDARD) <= names
    assert {"vgg11_lrn", "vgg16_c", "vgg13_k5", "vgg16_k5", "vgg16_k7", "vgg19_k5", "vgg19_k7"} <= names
    for name in ("vgg13_k5", "vgg16_k7", "vgg11_lrn", "vgg16_c"):
        assert f"{name}_bn" in names


def test_torchvision_names_and_cfgs_are_torchvisions_own():
    from torchvision.models import vgg as tv

    assert list(TORCHVISION_ARCHS) == STANDARD == [n for n in tv.__all__ if n.startswith("vgg")]
    for name, cfg in TORCHVISION_CFGS.items():  # torchvision keys its cfgs by the paper's letter
        assert [layer.channels if layer.kind == "conv" else "M" for layer in parse_cfg(cfg)] == tv.cfgs[PAPER[name]]


def test_large_kernel_map_names_every_large_kernel_arch_and_its_3x3_original():
    assert set(LARGE_KERNEL_BASE) == {n for n in list_archs() if re.search(r"_k\d", n)}
    for large, base in LARGE_KERNEL_BASE.items():
        a, b = get_arch(base), get_arch(large)
        cap = max(layer.kernel for layer in b.cfg if layer.kind == "conv")
        assert cap > 3 and a.batch_norm == b.batch_norm and bool(b.matched) == large.endswith(("_cm", "_cm_bn"))
        # The large one is the base's 3x3 stacks merged (widths aside, which compute matching scales).
        assert [layer.kernel for layer in b.cfg] == [layer.kernel for layer in merge_kernels(a.cfg, cap)]


def test_list_pattern_and_order():
    assert list_archs("vgg1?") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert list_archs("vgg1*_bn")[:2] == ["vgg11_bn", "vgg11_lrn_bn"]
    assert list_archs("nothing*") == []


def test_duplicate_name_raises():
    with pytest.raises(ValueError, match="already registered"):
        register_arch("vgg16")(lambda: get_arch("vgg16"))


def test_register_new_arch():
    name = "test_tiny_registered"
    try:
        register_arch(name)(lambda: ArchSpec(name=name, cfg=parse_cfg("8,M")))
        assert get_arch(name).cfg_str == "8,M"
        assert name in list_archs("test_*")
    finally:
        _ARCHS.pop(name, None)


def test_unknown_name_suggests_closest():
    with pytest.raises(UsageError, match=r"unknown arch 'vgg17'; did you mean vgg19, vgg16, vgg13\?"):
        get_arch("vgg17")
    with pytest.raises(UsageError, match="bench list"):
        get_arch("resnet50")


@pytest.mark.parametrize("name, close", [("VGG16", "vgg16"), ("Vgg16_BN", "vgg16_bn"), ("VGG13_K5", "vgg13_k5")])
def test_unknown_name_suggestion_ignores_case(name, close):
    with pytest.raises(UsageError, match=rf"unknown arch '{name}'; did you mean {close}\?$"):
        get_arch(name)


def test_public_api():
    assert vggablate.get_arch("vgg16").batch_norm is False
    assert vggablate.get_arch("vgg16_bn").batch_norm is True
