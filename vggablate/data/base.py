"""The dataset types: in-memory uint8 tensors (digits, CIFAR, synthetic) and streamed image folders."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import torch

MAX_WORKERS = 4  # DataLoader processes at most by default; each decodes images in its own process


def default_workers() -> int:
    """Return the default DataLoader worker count: MAX_WORKERS, or fewer on a machine with fewer CPUs."""
    # The CPUs this process may run on (a container or taskset can allow fewer than the machine has);
    # torch warns when a DataLoader asks for more workers than that.
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cpus))


@dataclass(frozen=True)
class TensorData:
    """A whole data set as uint8 NCHW tensors, ready to live on the device."""

    name: str
    train_x: torch.Tensor  # uint8, (N, C, H, W)
    train_y: torch.Tensor  # int64, (N,)
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    mean: tuple[float, ...]  # per channel, in 0-255 units, from the train split
    std: tuple[float, ...]
    crop_pad: int = 0  # random-crop padding for augmentation; 0 turns cropping off
    flip: bool = False  # horizontal flips; off for digits, whose shapes are not mirror-symmetric

    @property
    def in_channels(self) -> int:
        """Channels per image."""
        return int(self.train_x.shape[1])

    @property
    def input_size(self) -> int:
        """Square image side in pixels."""
        return int(self.train_x.shape[-1])

    @property
    def num_train(self) -> int:
        """Images in the train split."""
        return int(self.train_x.shape[0])

    def to(self, device: str | torch.device) -> TensorData:
        """Return the data set with its tensors on ``device``."""
        moved = {k: getattr(self, k).to(device) for k in ("train_x", "train_y", "test_x", "test_y")}
        return replace(self, **moved)


@dataclass(frozen=True)
class FolderData:
    """An image folder streamed through DataLoaders; images arrive as normalised float tensors."""

    name: str
    root: str
    train: Any  # torch Dataset or None when the folder has no train/ split
    test: Any  # the val/ split
    classes: tuple[str, ...]
    num_classes: int
    input_size: int
    in_channels: int = 3
    workers: int = field(default_factory=default_workers)  # DataLoader processes per split

    @property
    def num_train(self) -> int:
        """Images in the train split (0 without one)."""
        return 0 if self.train is None else len(self.train)


def channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Return per-channel mean and std of uint8 NCHW images, in 0-255 units."""
    xf = x.double()
    mean = xf.mean(dim=(0, 2, 3))
    std = xf.std(dim=(0, 2, 3)).clamp_min(1e-6)  # a constant channel must not divide by zero
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)
