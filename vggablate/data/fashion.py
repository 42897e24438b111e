"""Fashion-MNIST (Xiao et al. 2017): where its idx files are found, how they are checked, and the loader.

60,000 train and 10,000 test 28x28 grayscale images of 10 kinds of clothing, in four idx files.
They are looked for, in this order, in ``--data-dir`` (torchvision's ``DIR/FashionMNIST/raw/``
layout, or the four files directly in DIR), in the cache, in the Debian package's folder
(``apt-get install dataset-fashion-mnist``), and last downloaded through torchvision.

Debian's files are re-gzipped, so their .gz md5s are not the ones torchvision checks: they are
decompressed into the cache (about 0.3 s), never symlinked into torchvision's raw folder, where
torchvision, given a network, would download over the system's own files. Files are checked by
their idx header and size (magic number, counts, 28x28), not by md5. Downloads go through
torchvision's FashionMNIST, into its layout; only the loader needs torch.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import socket
import struct
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vggablate.data.paths import default_data_dir
from vggablate.errors import UsageError

NAME = "fashion-mnist"
APT_PACKAGE = "dataset-fashion-mnist"
SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)  # where the Debian package puts the gzipped files
RAW = Path("FashionMNIST", "raw")  # torchvision's layout under a root folder
FILES = {  # (split, part): file name, as the original archive and torchvision name them
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
COUNTS = {"train": 60000, "test": 10000}  # the published splits
SIDE = 28
# Padded to 32 px with a zero border (2 px each side): VGG's five 2x2 pools then leave a 1x1 map,
# as on CIFAR; the garments stay centred, as in the 28x28 originals.
PADDED = 32
MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # idx: unsigned bytes, 3 and 1 dimensions
HEADER = {"images": 16, "labels": 8}
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
TIMEOUT_S = 60.0  # per socket operation of torchvision's download: no network fails instead of hanging


@dataclass(frozen=True)
class Found:
    """A folder holding the four idx files, plain or gzipped, and which search location it is."""

    folder: Path
    gzipped: bool
    origin: str  # "--data-dir", "cache" or "system"


@dataclass(frozen=True)
class Ready:
    """The folder of four checked, uncompressed idx files, and a phrase saying where they came from."""

    folder: Path
    source: str


def cache_dir(data_dir: str | None) -> Path:
    """Return the folder that decompressed and downloaded files go to: --data-dir, else the cache."""
    return Path(data_dir or default_data_dir()).expanduser()


def search(data_dir: str | None, system_dirs: tuple[str, ...] | None = None) -> list[tuple[Path, str]]:
    """Return the folders looked in, in order, each with its location (system_dirs None: SYSTEM_DIRS)."""
    places: list[tuple[Path, str]] = []
    if data_dir:
        root = Path(data_dir).expanduser()
        places += [(root / RAW, "--data-dir"), (root, "--data-dir")]
    places.append((Path(default_data_dir()).expanduser() / RAW, "cache"))
    places += [(Path(d), "system") for d in (SYSTEM_DIRS if system_dirs is None else system_dirs)]
    return places


def locate(data_dir: str | None, system_dirs: tuple[str, ...] | None = None) -> Found | None:
    """Find the first folder with all four files (uncompressed first, then .gz); None: nowhere, bar a download."""
    for folder, origin in search(data_dir, system_dirs):
        for gz in (False, True):
            if all((folder / (name + ".gz" * gz)).is_file() for name in FILES.values()):
                return Found(folder, gz, origin)
    return None


def prepare(
    data_dir: str | None,
    download: bool,
    system_dirs: tuple[str, ...] | None = None,
    counts: dict[str, int] | None = COUNTS,
) -> Ready:
    """Make the four files ready (decompressed, or downloaded where allowed) and checked; UsageError if not."""
    found = locate(data_dir, system_dirs)
    target = cache_dir(data_dir) / RAW
    if found is None:
        if not download:
            raise UsageError(missing_message(data_dir, system_dirs, "downloading is off: --no-download"))
        _download(cache_dir(data_dir), data_dir, system_dirs)
        found, source = Found(target, False, "download"), f"downloaded into {target}"
    else:
        source = f"{found.folder}" + (f" (decompressed into {target})" if found.gzipped else "")
    # A subset in a folder the user names is allowed (the counts are printed); elsewhere, the real set.
    expected = None if found.origin == "--data-dir" else counts
    folder = _decompress_all(found.folder, target) if found.gzipped else found.folder
    for (split, part), name in FILES.items():
        check_idx(folder / name, part, None if expected is None else expected[split])
    return Ready(folder, source)


def missing_message(data_dir: str | None, system_dirs: tuple[str, ...] | None, why: str) -> str:
    """Say, in one line, where Fashion-MNIST was looked for and the three ways to get it."""
    looked = ", ".join(dict.fromkeys(str(folder) for folder, _ in search(data_dir, system_dirs)))
    return (
        f"{NAME} not found (looked in {looked}) and not downloaded ({why}): install it with "
        f"`sudo apt-get install {APT_PACKAGE}`, allow the download through torchvision (without --no-download, "
        f"with a network), or pass --data-dir with its four idx files ({', '.join(FILES.values())}, or .gz)"
    )


def _download(root: Path, data_dir: str | None, system_dirs: tuple[str, ...] | None) -> None:
    from torchvision.datasets import FashionMNIST

    try:
        # torchvision prints its progress on stdout, which holds the run's results: send it to stderr.
        with contextlib.redirect_stdout(sys.stderr), _socket_timeout(TIMEOUT_S):
            FashionMNIST(str(root), train=True, download=True)
    except (RuntimeError, OSError) as exc:  # every mirror failed, or the folder cannot be written
        cause = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise UsageError(missing_message(data_dir, system_dirs, f"the download failed: {cause}")) from None


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    # torchvision opens its URLs without a timeout: a silent network would hang the run.
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _decompress_all(source: Path, target: Path) -> Path:
    for name in FILES.values():
        decompress(source / (name + ".gz"), target / name)
    return target


def decompress(src: Path, dest: Path) -> None:
    """Decompress a .gz idx file to dest through a temporary file: dest appears only once complete."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {str(dest.parent)!r} ({exc.strerror}); pass a writable --data-dir") from None
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(src, "rb") as packed:
            shutil.copyfileobj(packed, out, 1 << 20)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shared cache's files from other users
        os.replace(tmp, dest)
    except (OSError, EOFError, zlib.error) as exc:  # gzip raises these for a damaged or truncated file
        raise UsageError(
            f"cannot decompress {str(src)!r} ({type(exc).__name__}: {exc}): a damaged file; "
            f"reinstall it (`sudo apt-get install --reinstall {APT_PACKAGE}`) or pass --data-dir with good copies"
        ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)  # gone already after the rename


def check_idx(path: Path, part: str, count: int | None = None) -> int:
    """Check an idx file's magic number, dimensions and size (and count, if given); return its item count."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER[part])
        size = path.stat().st_size
    except OSError as exc:
        raise UsageError(f"cannot read {str(path)!r} ({exc.strerror})") from None
    why = _idx_problem(head, size, part, count)
    if why:
        raise UsageError(f"{str(path)!r} is not a Fashion-MNIST {part} file ({why}); delete it and run again")
    return struct.unpack(">I", head[4:8])[0]


def _idx_problem(head: bytes, size: int, part: str, count: int | None) -> str:
    if len(head) < HEADER[part] or struct.unpack(">I", head[:4])[0] != MAGIC[part]:
        return f"no idx header with magic {MAGIC[part]:#010x}"
    n = struct.unpack(">I", head[4:8])[0]
    if part == "images" and struct.unpack(">II", head[8:16]) != (SIDE, SIDE):
        return f"images are {'x'.join(map(str, struct.unpack('>II', head[8:16])))}, not {SIDE}x{SIDE}"
    if count is not None and n != count:
        return f"{n} items, not {count}"
    expected = HEADER[part] + n * (SIDE * SIDE if part == "images" else 1)
    if size != expected:
        return f"{size} bytes where its header promises {expected}: truncated or altered"
    return ""


def load_fashion_mnist(
    data_dir: str | None = None,
    download: bool = False,
    system_dirs: tuple[str, ...] | None = None,
    counts: dict[str, int] | None = COUNTS,
) -> Any:
    """Load Fashion-MNIST as 1x32x32 uint8 TensorData, zero-padded from 28x28, with the train split's mean/std."""
    import torch
    import torch.nn.functional as F

    from vggablate.data.base import TensorData

    folder = prepare(data_dir, download, system_dirs, counts).folder
    split = {}
    for name in ("train", "test"):
        x = torch.from_numpy(read_idx(folder / FILES[name, "images"], "images"))
        y = torch.from_numpy(read_idx(folder / FILES[name, "labels"], "labels")).long()
        if len(x) != len(y) or (len(y) and int(y.max()) >= len(CLASSES)):
            raise UsageError(f"{str(folder)!r}: the {name} labels do not fit its images; is this Fashion-MNIST?")
        pad = (PADDED - SIDE) // 2
        split[name] = F.pad(x[:, None], (pad, pad, pad, pad)), y
    mean, std = gray_stats(split["train"][0])
    # 4-px random shifts, as on CIFAR, and flips: a mirrored garment is the same garment.
    return TensorData(NAME, *split["train"], *split["test"], len(CLASSES), mean, std, crop_pad=4, flip=True)


def read_idx(path: Path, part: str) -> Any:
    """Read a checked idx file into a numpy array: (N, 28, 28) uint8 images or (N,) uint8 labels.

    The parse of torchvision's ``read_image_file``/``read_label_file`` (tests check both agree):
    importing torchvision costs 2-3 s in every trial process, which otherwise never needs it.
    """
    import numpy as np

    data = np.fromfile(path, np.uint8, offset=HEADER[part])
    return data.reshape(-1, SIDE, SIDE) if part == "images" else data


def gray_stats(x: Any) -> tuple[tuple[float], tuple[float]]:
    """Return the mean and (n-1) std of uint8 images of one channel, in 0-255 units, from a 256-bin histogram."""
    import torch

    # Exact, and without the float64 copy of every pixel (480 MB for the padded train split).
    hist = torch.bincount(x.flatten(), minlength=256).double()
    values = torch.arange(256, dtype=torch.float64)
    n = hist.sum()
    mean = (hist * values).sum() / n
    var = (hist * (values - mean) ** 2).sum() / (n - 1)
    return (float(mean),), (float(var.sqrt().clamp_min(1e-6)),)


def read_samples(data_dir: str | None, split: str, n: int) -> tuple[Any, Any] | None:
    """Return the first n images (n, 28, 28) and labels of a split as numpy arrays, without torch; None if absent."""
    import numpy as np

    found = locate(data_dir)
    if found is None:
        return None
    arrays = []
    for part in ("images", "labels"):
        path = found.folder / (FILES[split, part] + ".gz" * found.gzipped)
        try:
            with (gzip.open if found.gzipped else open)(path, "rb") as f:  # only the first n items are read
                f.read(HEADER[part])
                arrays.append(np.frombuffer(f.read(n * (SIDE * SIDE if part == "images" else 1)), np.uint8))
        except (OSError, EOFError, zlib.error):  # a damaged file: a report goes on without its samples
            return None
    images, labels = arrays[0], arrays[1].astype(np.int64)
    k = min(len(images) // (SIDE * SIDE), len(labels))
    return images[: k * SIDE * SIDE].reshape(k, SIDE, SIDE), labels[:k]
