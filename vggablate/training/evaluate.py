"""Top-1/top-5 evaluation, and evaluating published or saved weights on an image folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from vggablate.arch.spec import ArchSpec
from vggablate.errors import UsageError
from vggablate.reference import load_reference


@dataclass(frozen=True)
class EvalResult:
    """Accuracy of a model on an evaluation split."""

    top1: float  # percent, 0-100
    top5: float | None  # percent; None when the model has 5 classes or fewer
    num_images: int
    eval_time_s: float


def accuracy_counts(
    model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], bf16: bool = False
) -> tuple[int, int, int]:
    """Return (top-1 correct, top-5 correct, images) over the batches, counted on the device."""
    was_training = model.training
    model.eval()
    top1 = top5 = n = None
    with torch.inference_mode():
        for x, y in batches:
            with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = model(x)
            k = min(5, logits.shape[1])
            hits = logits.topk(k, dim=1).indices == y[:, None]
            b1, b5 = hits[:, 0].sum(), hits.any(dim=1).sum()  # summed on the device: one sync at the end
            top1, top5 = (b1, b5) if top1 is None else (top1 + b1, top5 + b5)
            n = len(y) if n is None else n + len(y)
    model.train(was_training)
    if n is None:
        raise UsageError("the evaluation split is empty; expected at least one image")
    return int(top1), int(top5), n


def evaluate_model(model: nn.Module, batches: Iterable, num_classes: int, bf16: bool = False) -> EvalResult:
    """Evaluate a model on batches of (images, labels); accuracies in percent."""
    import time

    t0 = time.perf_counter()
    c1, c5, n = accuracy_counts(model, batches, bf16)
    top5 = 100.0 * c5 / n if num_classes > 5 else None
    return EvalResult(100.0 * c1 / n, top5, n, time.perf_counter() - t0)


def weights_transform(spec: ArchSpec, weights: str):
    """Return torchvision's preprocessing for the weights (a local state dict gets the same values)."""
    import torchvision

    from vggablate.arch.archs import TORCHVISION_ARCHS
    from vggablate.data import eval_transform

    name = spec.name if spec.name in TORCHVISION_ARCHS else "vgg16"  # every VGG weight set shares one transform
    try:
        return torchvision.models.get_weight(f"{name.upper()}_Weights.{weights}").transforms()
    except (ValueError, KeyError, AttributeError):
        return eval_transform()  # a local file: resize 256, crop 224, ImageNet mean/std, as above


def published_accuracy(arch: str, weights: str) -> tuple[float, float] | None:
    """Return torchvision's published (acc1, acc5) for a weight set, or None when it has none."""
    if weights != "IMAGENET1K_V1":
        return None
    models = load_reference()["torchvision_imagenet1k_v1"]["models"]
    if arch in models:
        return models[arch]["acc1"], models[arch]["acc5"]
    try:  # other archs: torchvision's own metadata, where it has them
        import torchvision

        metrics = torchvision.models.get_weight(f"{arch.upper()}_Weights.{weights}").meta["_metrics"]["ImageNet-1K"]
        return metrics["acc@1"], metrics["acc@5"]
    except (ValueError, KeyError, AttributeError):
        return None


def evaluate_weights(
    spec: ArchSpec,
    weights: str,
    folder: str,
    device: str = "cpu",
    batch_size: int = 64,
    workers: int | None = None,
) -> EvalResult:
    """Evaluate a spec with published or saved weights on PATH/val of an image folder (workers: None = default)."""
    from vggablate.data import StreamLoader, default_workers, load_folder

    workers = default_workers() if workers is None else workers
    from vggablate.arch.factory import create_model
    from vggablate.measure.latency import precision_flags

    data = load_folder(folder, need_train=False, transform=weights_transform(spec, weights), workers=workers)
    if data.num_classes > spec.num_classes:
        raise UsageError(
            f"{folder!r} has class index {data.num_classes - 1}, but the model has {spec.num_classes} classes"
        )
    model = create_model(spec, weights=weights).to(device)
    batches = StreamLoader(data.test, batch_size, train=False, device=device, workers=workers)
    # Published figures are fp32: keep cuDNN's convs off TF32, which is their default on CUDA.
    with precision_flags("fp32"):
        return evaluate_model(model, batches, spec.num_classes)
