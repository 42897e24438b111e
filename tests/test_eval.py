import numpy as np
import pytest
import torch
from PIL import Image

from bench.__main__ import main
from vggablate import create_model, resolve_spec
from vggablate.data import eval_transform, load_folder
from vggablate.errors import UsageError
from vggablate.training.evaluate import evaluate_weights, published_accuracy, weights_transform

OPTIONS = {"width": 1 / 16, "head": "gap"}  # a 1000-class vgg11 small enough to evaluate in a test


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A val/ folder with integer class folders (ImageNet indices 0 and 3), three PNGs each."""
    root = tmp_path_factory.mktemp("imagenet")
    rng = np.random.default_rng(0)
    for cls in ("0", "3"):
        (root / "val" / cls).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 256, (240, 300, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "val" / cls / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def state_path(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "vgg11_tiny.pth"
    torch.save(create_model("vgg11", **OPTIONS).state_dict(), path)
    return path


def test_integer_class_folders_are_imagenet_indices(folder):
    data = load_folder(str(folder), need_train=False)
    assert data.test.class_to_idx == {"0": 0, "3": 3} and data.num_classes == 4 and data.num_train == 0


def test_eval_matches_a_manual_pass(folder, state_path):
    spec = resolve_spec("vgg11", **OPTIONS)
    result = evaluate_weights(spec, str(state_path), str(folder), workers=0)
    model = create_model(spec, weights=str(state_path)).eval()
    data = load_folder(str(folder), need_train=False, transform=eval_transform())
    x = torch.stack([data.test[i][0] for i in range(len(data.test))])
    y = torch.tensor([data.test[i][1] for i in range(len(data.test))])
    assert x.shape == (6, 3, 224, 224)
    with torch.inference_mode():
        logits = model(x)
    assert result.num_images == 6
    assert result.top1 == pytest.approx(100 * (logits.argmax(1) == y).float().mean().item())
    top5 = (logits.topk(5, 1).indices == y[:, None]).any(1).float().mean().item()
    assert result.top5 == pytest.approx(100 * top5)


def test_preprocessing_and_published_figures_need_no_download():
    t = weights_transform(resolve_spec("vgg16"), "IMAGENET1K_V1")
    assert (t.resize_size, t.crop_size, t.mean) == ([256], [224], [0.485, 0.456, 0.406])
    assert published_accuracy("vgg16", "IMAGENET1K_V1") == (71.592, 90.382)
    assert published_accuracy("vgg16", "model.pth") is None


def test_eval_cli_prints_measured(folder, state_path, capsys):
    args = ["eval", "vgg11", "--weights", str(state_path), "--dataset", f"imagefolder:{folder}"]
    assert main([*args, "--width", "0.0625", "--head", "gap", "--device", "cpu", "--workers", "0"]) == 0
    out = capsys.readouterr().out
    assert "6 images" in out and "measured:  top-1" in out and "published" not in out


def test_eval_errors(folder, state_path, tmp_path, capsys):
    small = resolve_spec("vgg11", num_classes=2, **OPTIONS)
    with pytest.raises(UsageError, match="class index 3"):
        evaluate_weights(small, str(state_path), str(folder), workers=0)
    missing = ["eval", "vgg11", "--weights", str(state_path), "--dataset", f"imagefolder:{tmp_path / 'none'}"]
    assert main(missing) == 2 and "expected val/" in capsys.readouterr().err


@pytest.mark.parametrize("cpus, workers", [(1, 1), (2, 2), (16, 4)])
def test_default_workers_fit_the_cpus_available(monkeypatch, cpus, workers):
    import os

    from vggablate.data import default_workers

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert default_workers() == workers


def test_eval_cli_defaults_to_the_workers_the_machine_has(folder, state_path, monkeypatch, capsys):
    import os
    import warnings

    import vggablate.training.evaluate

    args = ["eval", "vgg11", "--weights", str(state_path), "--dataset", f"imagefolder:{folder}"]
    args += ["--width", "0.0625", "--head", "gap", "--device", "cpu"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(args) == 0  # real DataLoader workers, as many as the CPUs allow (at most 4)
    assert not [w for w in caught if "worker processes" in str(w.message)]  # torch's "too many workers"
    seen = []
    real = vggablate.training.evaluate.evaluate_weights

    def evaluate(spec, weights, folder, device, batch_size, workers):
        seen.append(workers)
        return real(spec, weights, folder, device, batch_size, 0)

    monkeypatch.setattr(vggablate.training.evaluate, "evaluate_weights", evaluate)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)  # a one-CPU machine
    assert main(args) == 0 and seen == [1]
