import functools
import logging
import math
import warnings
from dataclasses import fields, replace

import pytest

from vggablate import analyse, get_arch, layer_table, list_archs
from vggablate.measure.counts import Counts, measure_counts

COUNTS_COLUMNS = (
    "params params_trainable params_conv params_classifier weight_mb_fp32 weight_mb_bf16 macs flops macs_conv "
    "macs_classifier macs_other activations conv_layers stage_params stage_macs"
).split()
STANDARD = [f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")]


@functools.cache
def full(name: str) -> Counts:
    return measure_counts(get_arch(name), 224)


def tiny(name: str):
    return replace(get_arch(name), width=0.125, head="gap")


def test_fields_are_the_counts_columns():
    assert [f.name for f in fields(Counts)] == COUNTS_COLUMNS


@pytest.mark.parametrize("name", list_archs())
def test_fvcore_matches_the_analytic_table(name):
    spec = tiny(name)
    c = measure_counts(spec, 32)
    t = analyse(spec, 32)
    assert (c.macs, c.macs_conv, c.macs_classifier) == (t.macs, t.macs_conv, t.macs_classifier)
    assert (c.params, c.params_conv, c.params_classifier) == (t.params, t.params_conv, t.params_classifier)
    assert (c.stage_params, c.stage_macs, c.conv_layers) == (t.stage_params, t.stage_macs, t.conv_layers)
    assert c.flops == 2 * c.macs
    assert c.params_trainable == c.params


def test_standard_models_reproduce_torchvision(reference):
    models = reference["torchvision_imagenet1k_v1"]["models"]
    for name in STANDARD:
        c = full(name)
        assert round(c.macs / 1e9, 3) == models[name]["gmacs"], name
        assert c.params == models[name]["num_params"], name
        # torchvision's file size is the pickled state dict: ours is its tensors, within 0.01%.
        assert abs(c.weight_mb_fp32 - models[name]["file_size_mb"]) / models[name]["file_size_mb"] < 1e-4, name
    assert round(full("vgg16").macs / 1e9, 3) == 15.470


def test_batchnorm_and_pooling_convention(reference):
    # fvcore's own default counts BatchNorm (2 per element, eval, affine) and adaptive pooling:
    # macs + macs_other reproduces the reference's fvcore figure for vgg16_bn.
    c = full("vgg16_bn")
    assert round((c.macs + c.macs_other) / 1e9, 2) == reference["flop_counters_vgg16_224"]["fvcore_vgg16_bn_gmacs"]
    bn_elements = sum(2 * math.prod(r.out_shape) for r in layer_table(get_arch("vgg16_bn")) if r.kind == "bn")
    pool_inputs = 512 * 7 * 7
    assert c.macs_other == bn_elements + pool_inputs


def test_lrn_counts_ten_per_element_and_maxpool_zero():
    plain, lrn = measure_counts(tiny("vgg11"), 32), measure_counts(tiny("vgg11_lrn"), 32)
    lrn_row = next(r for r in layer_table(tiny("vgg11_lrn"), 32) if r.kind == "lrn")
    c, h, w = lrn_row.out_shape
    assert lrn.macs_other - plain.macs_other == 10 * c * h * w
    # gap head: only the adaptive pool's input is counted, so max-pools and ReLUs count 0.
    assert plain.macs_other == 64 * 1 * 1


def test_activations_are_conv_and_linear_outputs():
    spec = tiny("vgg11_bn")
    rows = layer_table(spec, 32)
    expected = sum(math.prod(r.out_shape) for r in rows if r.kind in ("conv", "linear"))
    assert measure_counts(spec, 32).activations == expected


def test_weight_sizes_count_bn_buffers():
    spec = tiny("vgg11_bn")
    c = measure_counts(spec, 32)
    buffers = sum(2 * r.out_channels for r in layer_table(spec, 32) if r.kind == "bn")
    assert c.weight_mb_fp32 == (c.params + buffers) * 4 / 2**20
    assert c.weight_mb_bf16 == c.weight_mb_fp32 / 2


def test_no_warning_reaches_the_user(caplog):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.DEBUG):
            measure_counts(tiny("vgg11_lrn_bn"), 32)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
