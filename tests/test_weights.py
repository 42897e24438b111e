import pytest
import torch
import torchvision

from vggablate import create_model
from vggablate.errors import UsageError


def test_local_state_dict_round_trip(tmp_path):
    src = create_model("vgg11", head="gap", num_classes=10, width=0.125)
    path = tmp_path / "w.pth"
    torch.save(src.state_dict(), path)
    dst = create_model("vgg11", head="gap", num_classes=10, width=0.125, weights=str(path))
    for k, v in src.state_dict().items():
        assert torch.equal(v, dst.state_dict()[k])


def test_checkpoint_wrapping_state_dict(tmp_path):
    src = create_model("16,M,32", head="gap", num_classes=3)
    path = tmp_path / "ckpt.pt"
    torch.save({"state_dict": src.state_dict(), "epoch": 3}, path)
    dst = create_model("16,M,32", head="gap", num_classes=3, weights=str(path))
    assert torch.equal(dst.features[0].weight, src.features[0].weight)


def test_mismatched_state_dict_is_a_clear_error(tmp_path):
    path = tmp_path / "w.pth"
    torch.save(create_model("vgg11", head="gap", num_classes=10, width=0.125).state_dict(), path)
    with pytest.raises(UsageError, match=r"do not fit this model: .*shape mismatch.*features.0.weight"):
        create_model("vgg11", head="gap", num_classes=10, width=0.25, weights=str(path))
    with pytest.raises(UsageError, match=r"missing .* key\(s\)"):
        create_model("vgg11_bn", head="gap", num_classes=10, width=0.125, weights=str(path))


def test_missing_and_corrupt_weight_files(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        create_model("vgg11", weights=str(tmp_path / "nope.pth"))
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UsageError, match="cannot read weights file"):
        create_model("vgg11", head="gap", weights=str(bad))


def test_torchvision_weights_go_through_torchvision_api(monkeypatch):
    # No download in tests: torchvision's WeightsEnum hands back a state dict we made.
    reference = torchvision.models.vgg11(weights=None).state_dict()
    seen = []

    def fake_get_state_dict(self, *args, **kwargs):
        seen.append(str(self))
        return reference

    monkeypatch.setattr(torchvision.models.VGG11_Weights, "get_state_dict", fake_get_state_dict)
    model = create_model("vgg11", weights="IMAGENET1K_V1")
    assert seen == ["VGG11_Weights.IMAGENET1K_V1"]
    assert torch.equal(model.classifier[6].weight, reference["classifier.6.weight"])


def test_torchvision_weights_refused_for_non_standard_models():
    with pytest.raises(UsageError, match="only for"):
        create_model("vgg13_k5", weights="IMAGENET1K_V1")
    with pytest.raises(UsageError, match="only for"):
        create_model("vgg16", head="gap", weights="IMAGENET1K_V1")
    with pytest.raises(UsageError, match="unknown weights 'IMAGENET9K'"):
        create_model("vgg16", weights="IMAGENET9K")


def test_unknown_option_rejected():
    with pytest.raises(UsageError, match="unknown option"):
        create_model("vgg11", depth=3)
