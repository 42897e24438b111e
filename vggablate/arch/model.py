"""The VGG module and build_model(spec): torchvision's layout, parameter names and init."""

from __future__ import annotations

import torch
from torch import nn

from vggablate.arch.spec import IMAGENET_HIDDEN, IMAGENET_POOL, ArchSpec, validate

# Krizhevsky et al. (2012), the LRN the VGG paper's A-LRN uses: n=5, alpha=1e-4, beta=0.75, k=2.
LRN_ARGS = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}


class VGG(nn.Module):
    """VGG with torchvision's attribute names: features, avgpool, classifier."""

    def __init__(self, features: nn.Sequential, avgpool: nn.Module, classifier: nn.Sequential):
        super().__init__()
        self.features = features
        self.avgpool = avgpool
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run features, pool, flatten and classify."""
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def make_features(spec: ArchSpec) -> tuple[nn.Sequential, int]:
    """Build the conv stack; return it and its output channel count."""
    layers: list[nn.Module] = []
    channels = spec.in_channels
    for layer in spec.channels():
        if layer.kind == "pool":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif layer.kind == "lrn":
            layers.append(nn.LocalResponseNorm(**LRN_ARGS))
        else:
            k = layer.kernel
            layers.append(nn.Conv2d(channels, layer.channels, kernel_size=k, padding=k // 2))
            if spec.batch_norm:
                layers.append(nn.BatchNorm2d(layer.channels))
            layers.append(nn.ReLU(inplace=True))
            channels = layer.channels
    return nn.Sequential(*layers), channels


def make_head(spec: ArchSpec, channels: int) -> tuple[nn.Module, nn.Sequential]:
    """Build the pooling and classifier for the spec's head."""
    if spec.head == "gap":
        return nn.AdaptiveAvgPool2d(1), nn.Sequential(nn.Dropout(p=spec.dropout), nn.Linear(channels, spec.num_classes))
    return nn.AdaptiveAvgPool2d((IMAGENET_POOL, IMAGENET_POOL)), nn.Sequential(
        nn.Linear(channels * IMAGENET_POOL * IMAGENET_POOL, IMAGENET_HIDDEN),
        nn.ReLU(True),
        nn.Dropout(p=spec.dropout),
        nn.Linear(IMAGENET_HIDDEN, IMAGENET_HIDDEN),
        nn.ReLU(True),
        nn.Dropout(p=spec.dropout),
        nn.Linear(IMAGENET_HIDDEN, spec.num_classes),
    )


def init_weights(model: nn.Module) -> None:
    """Initialise as torchvision's VGG does."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.constant_(m.bias, 0)


def build_model(spec: ArchSpec) -> VGG:
    """Build and initialise the network a spec describes."""
    validate(spec)
    features, channels = make_features(spec)
    avgpool, classifier = make_head(spec, channels)
    model = VGG(features, avgpool, classifier)
    init_weights(model)
    return model
