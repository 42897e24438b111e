"""Data sets and the device-resident loader.

``load_dataset(name, data_dir)`` returns a TensorData (clutter, digits, fashion-mnist, cifar10,
cifar100, synthetic: uint8 tensors, moved to the device by the caller) or a FolderData
(``imagefolder:PATH``, streamed through DataLoaders). Which names exist, and what each one is,
lives in one place: ``vggablate.data.catalog``.

The torch-using names are imported on first use (PEP 562), so that the catalog, which the
torch-free report layer reads, can be imported without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vggablate.data.base import FolderData, TensorData

# Where each lazily imported name lives.
_LAZY = {
    "FolderData": "base",
    "TensorData": "base",
    "channel_stats": "base",
    "default_workers": "base",
    "eval_transform": "folder",
    "load_folder": "folder",
    "DeviceLoader": "loader",
    "StreamLoader": "loader",
    "random_crop": "loader",
    "random_flip": "loader",
    "CIFAR": "sources",
    "default_data_dir": "sources",
    "load_cifar": "sources",
    "load_clutter": "sources",
    "load_digits_data": "sources",
    "load_synthetic": "sources",
}


def load_dataset(
    name: str,
    data_dir: str | None = None,
    *,
    download: bool = False,
    device: str = "cpu",
    synthetic_shape: tuple[int, int, int] = (3, 32, 32),
    num_classes: int = 10,
    workers: int | None = None,
) -> TensorData | FolderData:
    """Load a data set by name; in-memory ones come back on ``device``, image folders stream through workers."""
    from vggablate.data.base import TensorData
    from vggablate.data.catalog import LoadOptions, get_dataset

    options = LoadOptions(data_dir, download, workers, synthetic_shape, num_classes)
    data = get_dataset(name).load(name, options)
    return data.to(device) if isinstance(data, TensorData) else data


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"vggablate.data.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'vggablate.data' has no attribute {name!r}")


__all__ = ["load_dataset", *_LAZY]
