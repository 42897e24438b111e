import pytest

from vggablate import ArchSpec, Layer, canonical_cfg, format_cfg, parse_cfg
from vggablate.arch.spec import check_input_size, scale_cfg, validate
from vggablate.errors import UsageError


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("64,M,128,M,256,256,M", "64,M,128,M,256x2,M"),
        ("64,M,128,M,256x2,M,512k5,512,M", "64,M,128,M,256x2,M,512k5,512,M"),
        ("64k3,m,128K5x2,lrn,L,M", "64,M,128k5x2,LRNx2,M"),
        (" 32 , M ,64x1", "32,M,64"),
        ("256k1x3,Mx2", "256k1x3,Mx2"),
    ],
)
def test_round_trip(text, canonical):
    assert canonical_cfg(text) == canonical
    assert format_cfg(parse_cfg(text)) == canonical
    # The canonical form is a fixed point.
    assert canonical_cfg(canonical) == canonical
    assert parse_cfg(canonical) == parse_cfg(text)


def test_torchvision_list_form():
    cfg = [64, "M", 128, 128, "M", "512k5"]
    assert parse_cfg(cfg) == (
        Layer("conv", 64),
        Layer("pool"),
        Layer("conv", 128),
        Layer("conv", 128),
        Layer("pool"),
        Layer("conv", 512, 5),
    )
    assert canonical_cfg(cfg) == "64,M,128x2,M,512k5"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty cfg"),
        ("   ", "empty cfg"),
        ("64,,M", "token 2 is empty"),
        ("64,foo", "unknown cfg token 'foo'"),
        ("0,M", "channels must be >= 1"),
        ("-8,M", "channels must be >= 1"),
        ("64k4", "kernel must be odd"),
        ("64k0", "kernel must be odd"),
        ("64x0", "repeat count must be >= 1"),
        ("M,M", "has no conv"),
        ("LRN", "has no conv"),
    ],
)
def test_validation_errors(text, fragment):
    with pytest.raises(UsageError, match=fragment) as info:
        parse_cfg(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"width": 0}, "width must be > 0"),
        ({"width": -1.0}, "width must be > 0"),
        ({"num_classes": 0}, "num_classes must be >= 1"),
        ({"head": "mlp"}, "unknown head"),
        ({"dropout": 1.0}, "dropout"),
        ({"in_channels": 0}, "in_channels"),
    ],
)
def test_spec_option_errors(options, fragment):
    spec = ArchSpec(name="x", cfg=parse_cfg("8,M"), **options)
    with pytest.raises(UsageError, match=fragment):
        validate(spec)


def test_input_size_too_small_for_pools():
    cfg = parse_cfg("8,M,8,M,8,M")
    check_input_size(cfg, 8)
    with pytest.raises(UsageError, match=r"input size 7 is too small for 3 max-pools; use --input-size >= 8"):
        check_input_size(cfg, 7)


def test_width_scales_and_never_below_one():
    spec = ArchSpec(name="x", cfg=parse_cfg("64,M,3,LRN"), width=0.1)
    assert [layer.channels for layer in spec.channels() if layer.kind == "conv"] == [6, 1]
    assert spec.channels() == scale_cfg(spec.cfg, 0.1) == parse_cfg("6,M,1,LRN")  # compute matching scales so too
