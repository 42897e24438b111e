import pytest
import torch
import torchvision

from vggablate import analyse, create_model, get_arch, list_archs
from vggablate.arch.model import build_model

STANDARD = [f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")]


@pytest.mark.parametrize("name", STANDARD)
def test_torchvision_parity(name, reference):
    # Built on the meta device: a full-size build's cost is its weight init, which parity does not need
    # (test_init_scheme_matches_torchvision checks the init); the forward gets seeded weights instead.
    with torch.device("meta"):
        theirs = getattr(torchvision.models, name)(weights=None)
        ours = create_model(name)
    ref_state, our_state = theirs.state_dict(), ours.state_dict()
    assert list(our_state) == list(ref_state)
    assert {k: v.shape for k, v in our_state.items()} == {k: v.shape for k, v in ref_state.items()}
    n_params = sum(p.numel() for p in ours.parameters())
    assert n_params == reference["torchvision_imagenet1k_v1"]["models"][name]["num_params"]
    assert n_params == sum(p.numel() for p in theirs.parameters())
    theirs, ours = theirs.to_empty(device="cpu").eval(), ours.to_empty(device="cpu").eval()
    fill_seeded(theirs)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        assert torch.equal(ours(x), theirs(x))


def fill_seeded(model: torch.nn.Module) -> None:
    """Give every tensor of the state dict seeded values: small weights, positive BatchNorm variances."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, t in model.state_dict().items():
            if not t.is_floating_point():
                t.zero_()  # num_batches_tracked
            elif key.endswith("running_var"):
                t.uniform_(0.5, 1.5, generator=gen)
            else:
                t.uniform_(-0.05, 0.05, generator=gen)


def test_init_scheme_matches_torchvision():
    model = create_model("vgg11_bn", head="gap", num_classes=10, width=0.25)
    conv = model.features[0]
    assert torch.count_nonzero(conv.bias) == 0
    # kaiming_normal_(fan_out, relu): std = sqrt(2 / (out * k * k)).
    expected = (2 / (conv.out_channels * 9)) ** 0.5
    assert abs(conv.weight.std().item() - expected) / expected < 0.2
    bn = model.features[1]
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    linear = model.classifier[-1]
    assert abs(linear.weight.std().item() - 0.01) < 0.003


@pytest.mark.parametrize("name", list_archs())
def test_every_arch_builds_and_runs_small(name):
    from dataclasses import replace

    spec = replace(get_arch(name), head="gap", num_classes=10)
    # The full-width build on the meta device (its weight init is the cost), the forward at width 1/8:
    # the same layers, a 64th of the work.
    with torch.device("meta"):
        full = create_model(spec)
    assert sum(p.numel() for p in full.parameters()) == analyse(spec, 32).params
    narrow = replace(spec, width=0.125)
    model = create_model(narrow).eval()
    with torch.inference_mode():
        out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()
    assert sum(p.numel() for p in model.parameters()) == analyse(narrow, 32).params


def test_imagenet_head_on_small_input_and_width():
    model = build_model(get_arch("vgg11").__class__(name="x", cfg=get_arch("vgg11").cfg, width=0.125))
    with torch.inference_mode():
        assert model.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 1000)
    assert model.features[0].out_channels == 8


def test_lrn_and_one_by_one_layers():
    lrn = create_model("vgg11_lrn", head="gap")
    assert isinstance(lrn.features[2], torch.nn.LocalResponseNorm)
    c = create_model("vgg16_c", head="gap")
    kernels = [m.kernel_size[0] for m in c.features if isinstance(m, torch.nn.Conv2d)]
    assert kernels == [3, 3, 3, 3, 3, 3, 1, 3, 3, 1, 3, 3, 1]


def test_in_channels_option():
    model = create_model("16,M,32", in_channels=1, head="gap", num_classes=3).eval()
    with torch.inference_mode():
        assert model(torch.randn(1, 1, 8, 8)).shape == (1, 3)
