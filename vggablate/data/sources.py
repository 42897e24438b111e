"""In-memory sources: scikit-learn's digits (plain and cluttered), random tensors, and CIFAR's python batches."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vggablate.data.base import TensorData, channel_stats
from vggablate.data.download import FETCH_ERRORS, cause, download, extract
from vggablate.data.paths import default_data_dir  # noqa: F401  (re-exported: its old home)
from vggablate.errors import UsageError
from vggablate.words import plural

DIGITS_SIZE = 32  # 8x8 upsampled so that VGG's five 2x2 pools still leave a 1x1 map
DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0  # the split is part of the data set, not of a run: fixed for every seed
# The official archives and their md5 sums (as torchvision's CIFAR10/CIFAR100 classes list them).
CIFAR = {
    "cifar10": {
        "url": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "md5": "c58f30108f718f92721af3b95e74349a",
        "folder": "cifar-10-batches-py",
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
        "label_key": "labels",
        "classes": 10,
    },
    "cifar100": {
        "url": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "md5": "eb9058c3a382ffc7106e4002c42a8d85",
        "folder": "cifar-100-python",
        "train": ["train"],
        "test": ["test"],
        "label_key": "fine_labels",
        "classes": 100,
    },
}
CIFAR_PAD = 4  # the standard CIFAR augmentation: 4-pixel padded random crop plus flip


def load_digits_data() -> TensorData:
    """Load scikit-learn's digits, upsampled to 3x32x32 uint8, with a fixed stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = torch.from_numpy(bunch.images.astype(np.float32) * (255.0 / 16.0))[:, None]  # pixel values are 0-16
    x = F.interpolate(x, size=(DIGITS_SIZE, DIGITS_SIZE), mode="bilinear", align_corners=False)
    x = x.round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    y = torch.from_numpy(bunch.target.astype(np.int64))
    tr, te = train_test_split(
        np.arange(len(y)), test_size=DIGITS_TEST_FRACTION, stratify=bunch.target, random_state=DIGITS_SPLIT_SEED
    )
    tr, te = torch.from_numpy(np.sort(tr)), torch.from_numpy(np.sort(te))
    mean, std = channel_stats(x[tr])
    # Small shifts only: a mirrored digit is a different (or no) digit.
    return TensorData("digits", x[tr], y[tr], x[te], y[te], 10, mean, std, crop_pad=2, flip=False)


def load_clutter(name: str = "clutter") -> TensorData:
    """Build the cluttered-digits task (vggablate.data.clutter) as 1-channel uint8 tensors."""
    from vggablate.data.clutter import make_clutter, parse_clutter

    params = parse_clutter(name)
    train, test = make_clutter(params)
    tr_x, te_x = torch.from_numpy(train.x), torch.from_numpy(test.x)
    mean, std = channel_stats(tr_x)
    # Small random shifts on top of the fixed placements; no flips (a mirrored digit is another digit).
    return TensorData(
        params.name, tr_x, torch.from_numpy(train.y), te_x, torch.from_numpy(test.y), 10, mean, std, crop_pad=4
    )


def load_synthetic(
    shape: tuple[int, int, int] = (3, 32, 32), num_classes: int = 10, num_train: int = 2048, num_test: int = 512
) -> TensorData:
    """Make random uint8 images with random labels, for throughput-only runs."""
    g = torch.Generator().manual_seed(0)  # fixed: the content is irrelevant, only the shapes matter
    x = torch.randint(0, 256, (num_train + num_test, *shape), dtype=torch.uint8, generator=g)
    y = torch.randint(0, num_classes, (num_train + num_test,), generator=g)
    c = shape[0]
    return TensorData(
        "synthetic", x[:num_train], y[:num_train], x[num_train:], y[num_train:], num_classes, (127.5,) * c, (73.9,) * c
    )


def cifar_dir(name: str, data_dir: str, download: bool) -> Path:
    """Return the folder of CIFAR's python batches under data_dir, extracting or downloading if allowed."""
    info = CIFAR[name]
    root = Path(data_dir).expanduser()
    archive = root / Path(info["url"]).name
    found = _batches_folder(root, info)
    if found is not None:
        return found
    if not archive.is_file():
        if not download:
            raise UsageError(
                f"{name} not found in {str(root)!r}: expected {_expected(info)} or {archive.name}; "
                f"put them in {str(root)!r}, pass another --data-dir, or drop --no-download to download them"
            )
        _download(name, root, archive)
    _extract(archive, root, info)
    found = _batches_folder(root, info)
    if found is None:
        raise UsageError(f"{str(archive)!r} did not give {_expected(info)}; is it the {name} python archive?")
    return found


def _batches_folder(root: Path, info: dict) -> Path | None:
    for folder in (root / info["folder"], root):  # data_dir may be the batches folder itself
        if all((folder / f).is_file() for f in info["train"] + info["test"]):
            return folder
    return None


def _expected(info: dict) -> str:
    return f"{info['folder']}/ with {', '.join(info['train'] + info['test'])} (CIFAR python format)"


def _download(name: str, root: Path, archive: Path) -> None:
    url = CIFAR[name]["url"]
    try:
        download(url, archive, CIFAR[name]["md5"])
    except FETCH_ERRORS as exc:
        raise UsageError(
            f"cannot download {name} from {url} into {str(root)!r} ({cause(exc)}); put "
            f"{CIFAR[name]['folder']}/ (the CIFAR python batches) or {archive.name} in {str(root)!r}, "
            "or pass --data-dir with a folder that has them"
        ) from None


def _extract(archive: Path, root: Path, info: dict) -> None:
    try:
        extract(archive, root, info["folder"])
    except Exception as exc:  # tarfile and gzip raise several types for a damaged archive
        raise UsageError(
            f"cannot extract {str(archive)!r} ({type(exc).__name__}: {cause(exc)}): expected the CIFAR .tar.gz; "
            "if it is a partial download, delete it and run again"
        ) from None


def read_cifar_batch(path: Path, label_key: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Read one CIFAR python-format batch: a pickled dict of 'data' (N x 3072 uint8) and labels."""
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(entry[label_key], dtype=np.int64)
    except Exception as exc:  # unpickling a damaged file can raise almost anything
        raise UsageError(
            f"cannot read CIFAR batch {str(path)!r} ({type(exc).__name__}): expected a python-format pickle "
            f"with 'data' (N x 3072 uint8) and '{label_key}'"
        ) from None
    if len(labels) != len(data):
        counts = f"{plural(len(data), 'image')} but {plural(len(labels), 'label')}"
        raise UsageError(f"CIFAR batch {str(path)!r} has {counts}")
    return torch.from_numpy(data.copy()), torch.from_numpy(labels)


def load_cifar(name: str, data_dir: str, download: bool = False) -> TensorData:
    """Load CIFAR-10 or CIFAR-100 from its python-format batches (our own reader: no md5 check)."""
    info = CIFAR[name]
    folder = cifar_dir(name, data_dir, download)

    def read(files: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [read_cifar_batch(folder / f, info["label_key"]) for f in files]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    (trx, tr_y), (tex, te_y) = read(info["train"]), read(info["test"])
    labels = torch.cat([tr_y, te_y])
    if len(tr_y) == 0 or len(te_y) == 0:
        raise UsageError(f"{str(folder)!r}: a {name} split is empty; expected images in the train and test batches")
    if int(labels.min()) < 0 or int(labels.max()) >= info["classes"]:
        raise UsageError(f"{str(folder)!r}: labels outside 0-{info['classes'] - 1}; is this {name}?")
    mean, std = channel_stats(trx)
    return TensorData(name, trx, tr_y, tex, te_y, info["classes"], mean, std, crop_pad=CIFAR_PAD, flip=True)
