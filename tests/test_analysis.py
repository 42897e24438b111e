import pytest

from vggablate import analyse, get_arch, layer_table, list_archs
from vggablate.arch.rewrite import large_kernel, match_compute, merge_kernels
from vggablate.arch.spec import ArchSpec, format_cfg, parse_cfg

STANDARD = [f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")]
LARGE = ["vgg13_k5", "vgg16_k5", "vgg16_k7", "vgg19_k5", "vgg19_k7"]


@pytest.mark.parametrize("name", STANDARD)
def test_totals_equal_torchvision_reference(name, reference):
    ref = reference["torchvision_imagenet1k_v1"]["models"][name]
    t = analyse(get_arch(name), 224)
    assert t.params == ref["num_params"]
    assert round(t.macs / 1e9, 3) == ref["gmacs"]


def test_vgg16_gmacs_exact_and_split():
    t = analyse(get_arch("vgg16"), 224)
    assert round(t.macs / 1e9, 3) == 15.470
    assert t.macs == t.macs_conv + t.macs_classifier
    assert t.params == t.params_conv + t.params_classifier
    assert sum(t.stage_macs) == t.macs_conv and len(t.stage_macs) == 5
    assert t.macs_classifier == 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000


def test_paper_table2_params(reference):
    paper = reference["paper"]["table2_params_millions"]
    names = {"A": "vgg11", "A-LRN": "vgg11_lrn", "B": "vgg13", "C": "vgg16_c", "D": "vgg16", "E": "vgg19"}
    for config, name in names.items():
        assert round(analyse(get_arch(name), 224).params / 1e6) == paper[config]


def test_layer_table_shapes_and_receptive_field():
    rows = layer_table(get_arch("vgg16"), 224)
    convs = [r for r in rows if r.kind == "conv"]
    assert convs[0].name == "features.0" and convs[0].out_shape == (64, 224, 224)
    assert convs[-1].out_shape == (512, 14, 14)
    # Receptive fields of VGG-16: conv5_3 sees 196 pixels, pool5 212 (the standard results).
    assert convs[-1].receptive_field == 196
    assert [r.receptive_field for r in rows if r.kind == "pool"][-1] == 212
    assert rows[-1].name == "classifier.6" and rows[-1].out_shape == (1000,)


def test_bn_rows_use_torchvision_indices():
    rows = layer_table(get_arch("vgg11_bn"), 32)
    assert [r.name for r in rows[:3]] == ["features.0", "features.1", "features.3"]
    assert rows[1].kind == "bn" and rows[1].params == 128


def _stage_rf(spec: ArchSpec, size: int = 224) -> list[int]:
    return [r.receptive_field for r in layer_table(spec, size) if r.kind == "pool"]


@pytest.mark.parametrize("name", LARGE)
def test_rewrites_preserve_receptive_field_and_stages(name):
    big = get_arch(name)
    base = get_arch(name.split("_")[0])
    assert _stage_rf(big) == _stage_rf(base)
    stage_channels = lambda s: [  # noqa: E731
        {r.out_channels for r in layer_table(s, 224) if r.kind == "conv" and r.stage == i} for i in range(1, 6)
    ]
    assert stage_channels(big) == stage_channels(base)
    cap = int(name[-1])
    assert max(r.kernel for r in layer_table(big, 224) if r.kind == "conv") == cap


def test_merge_rules_for_uneven_stacks():
    assert format_cfg(merge_kernels(parse_cfg("64x2,M,256x3,M"), 5)) == "64k5,M,256k5,256,M"
    assert format_cfg(merge_kernels(parse_cfg("256x4,M"), 7)) == "256k7,256,M"
    assert format_cfg(merge_kernels(parse_cfg("256x4,M"), 5)) == "256k5x2,M"
    assert format_cfg(merge_kernels(parse_cfg("64,M,128x2,256k1"), 7)) == "64,M,128k5,256k1"
    # A change of channels inside a stage ends the run.
    assert format_cfg(merge_kernels(parse_cfg("64,128,128"), 7)) == "64,128k5"
    assert get_arch("vgg13_k5").cfg_str == "64k5,M,128k5,M,256k5,M,512k5,M,512k5,M"


def test_large_kernel_cost_matches_paper_arithmetic():
    # Sect. 2.3: three 3x3 layers of C channels: 27C^2 weights; one 7x7: 49C^2.
    c = 256
    spec = ArchSpec("a", parse_cfg(f"{c},M,{c}x3"), head="gap")
    three = analyse(spec, 32).stage_params[1]
    seven = analyse(large_kernel(spec, 7), 32).stage_params[1]
    assert three - 3 * c == 27 * c * c  # minus the biases
    assert seven - c == 49 * c * c


@pytest.mark.parametrize("name", [n for n in list_archs("*_cm*")])
def test_compute_matched_within_two_percent(name):
    spec = get_arch(name)
    base = get_arch(name.split("_")[0] + ("_bn" if name.endswith("_bn") else ""))
    ratio = analyse(spec, 224).macs_conv / analyse(base, 224).macs_conv
    assert abs(ratio - 1) <= 0.02
    assert spec.matched.startswith("conv macs to ")


def test_match_by_params():
    big = large_kernel(get_arch("vgg16"), 7)
    spec = match_compute(big, get_arch("vgg16"), by="params")
    ratio = analyse(spec, 224).params_conv / analyse(get_arch("vgg16"), 224).params_conv
    assert abs(ratio - 1) <= 0.02 and "conv params" in spec.matched
