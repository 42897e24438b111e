"""Data sets and the device-resident loader.

``load_dataset(name, data_dir)`` returns a TensorData (clutter, digits, cifar10, cifar100, synthetic:
uint8 tensors, moved to the device by the caller) or a FolderData (``imagefolder:PATH``,
streamed through DataLoaders).
"""

from __future__ import annotations

from vggablate.clutter import is_clutter
from vggablate.data.base import FolderData, TensorData, channel_stats, default_workers
from vggablate.data.folder import eval_transform, load_folder
from vggablate.data.loader import DeviceLoader, StreamLoader, random_crop, random_flip
from vggablate.data.sources import (
    CIFAR,
    default_data_dir,
    load_cifar,
    load_clutter,
    load_digits_data,
    load_synthetic,
)
from vggablate.errors import UsageError

DATASETS = ("clutter[:key=N,...]", "digits", "cifar10", "cifar100", "imagefolder:PATH", "synthetic")
Dataset = TensorData | FolderData


def load_dataset(
    name: str,
    data_dir: str | None = None,
    *,
    download: bool = False,
    device: str = "cpu",
    synthetic_shape: tuple[int, int, int] = (3, 32, 32),
    num_classes: int = 10,
    workers: int | None = None,
) -> Dataset:
    """Load a data set by name; in-memory ones come back on ``device``, image folders stream through workers."""
    if name.startswith("imagefolder:"):
        path = name.split(":", 1)[1]
        if not path:
            raise UsageError("imagefolder needs a path: --dataset imagefolder:PATH (with train/ and val/)")
        return load_folder(path, workers=workers)
    if name == "digits":
        data = load_digits_data()
    elif is_clutter(name):
        data = load_clutter(name)
    elif name == "synthetic":
        data = load_synthetic(synthetic_shape, num_classes)
    elif name in CIFAR:
        data = load_cifar(name, data_dir or default_data_dir(), download)
    else:
        raise UsageError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return data.to(device)


__all__ = [
    "DATASETS",
    "Dataset",
    "DeviceLoader",
    "FolderData",
    "StreamLoader",
    "TensorData",
    "channel_stats",
    "default_data_dir",
    "default_workers",
    "eval_transform",
    "load_cifar",
    "load_clutter",
    "load_dataset",
    "load_digits_data",
    "load_folder",
    "load_synthetic",
    "random_crop",
    "random_flip",
]
