"""Image folders (``train/`` and ``val/``), preprocessed as torchvision's VGG weights expect.

Class folders map to indices as torchvision's ImageFolder does (sorted names -> 0..K-1),
which is ImageNet's index order when the folder holds all 1000 WNID folders (ILSVRC's
indices follow the sorted WNIDs). A folder whose class folders are all integers (``0``,
``207``, ...) maps each to that index instead, so a subset such as Imagenette can be
evaluated with a 1000-class model after renaming its WNID folders to their ImageNet indices.
"""

from __future__ import annotations

import os
from pathlib import Path

from vggablate.data.base import FolderData, default_workers
from vggablate.errors import UsageError

# torchvision's VGG weights: resize the short side to 256, centre-crop 224, ImageNet mean/std
# (VGG16_Weights.IMAGENET1K_V1.transforms(); the same for every VGG weight set).
RESIZE, CROP = 256, 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def eval_transform(resize: int = RESIZE, crop: int = CROP, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """Return the evaluation preprocessing: resize, centre crop, to tensor, normalise."""
    from torchvision import transforms as T

    return T.Compose([T.Resize(resize), T.CenterCrop(crop), T.ToTensor(), T.Normalize(mean, std)])


def train_transform(crop: int = CROP):
    """Return the training augmentation: random resized crop and flip, normalised like evaluation."""
    from torchvision import transforms as T

    return T.Compose(
        [T.RandomResizedCrop(crop), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    )


def _image_folder(path: Path, transform):
    from torchvision.datasets import ImageFolder

    class IndexedFolder(ImageFolder):
        """ImageFolder whose all-integer class folder names are the class indices."""

        def find_classes(self, directory):
            classes, mapping = super().find_classes(directory)
            if classes and all(c.isdigit() for c in classes):
                mapping = {c: int(c) for c in classes}
            return classes, mapping

    try:
        return IndexedFolder(str(path), transform=transform)
    except (FileNotFoundError, RuntimeError) as exc:  # ImageFolder's errors for empty or class-less folders
        raise UsageError(f"image folder {str(path)!r}: {exc}".split("\n")[0]) from None


def check_folder(root: str, need_train: bool = True) -> Path:
    """Raise a one-line error unless PATH holds val/ (and train/); cheap: lists no images."""
    base = Path(root).expanduser()
    expected = "train/ and val/" if need_train else "val/"
    if not (base / "val").is_dir() or (need_train and not (base / "train").is_dir()):
        raise UsageError(
            f"image folder {str(base)!r} not found or incomplete: expected {expected} with one folder per class"
        )
    return base


def check_images(root: str, need_train: bool = True) -> None:
    """Refuse an image folder holding a file PIL cannot read, naming the first and counting them all.

    Refused, not skipped: a silently smaller data set would change the figures without a word, and
    the user can fix the folder in a minute. Each file is opened and ``verify()``-ed, which reads
    headers (and a PNG's checksums) without decoding pixels: fast, and it catches what crashed
    training mid-epoch (a text file named ``junk.jpg``: PIL.UnidentifiedImageError), though not a
    JPEG whose pixel data is cut short.
    """
    from PIL import Image

    base = check_folder(root, need_train)
    bad: list[tuple[Path, str]] = []
    for path in image_files(base, ("train", "val") if need_train else ("val",)):
        try:
            with Image.open(path) as image:
                image.verify()
        except Exception as exc:  # PIL raises many types (UnidentifiedImageError, SyntaxError, OSError...)
            bad.append((path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
    if bad:
        (first, why), n = bad[0], len(bad)
        what = "1 file" if n == 1 else f"{n} files"
        raise UsageError(f"image folder {str(base)!r}: {what} PIL cannot read as an image, first {str(first)!r} "
                         f"({why}); remove or replace {'it' if n == 1 else 'them'}")  # fmt: skip


def class_count(root: str) -> int:
    """Return the classes a net trained on PATH must score, as load_folder maps its class folders."""
    base = check_folder(root)

    def count(split: str) -> int:
        names = [p.name for p in (base / split).iterdir() if p.is_dir()]
        return max(int(n) for n in names) + 1 if names and all(n.isdigit() for n in names) else len(names)

    return max(count("val"), count("train"))


# What torchvision's ImageFolder loads (torchvision.datasets.folder.IMG_EXTENSIONS); other files it ignores.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def image_files(base: Path, splits: tuple[str, ...]) -> list[Path]:
    """Return the files ImageFolder would load from each split: class folders walked, links followed."""
    found = []
    for split in splits:
        for cls in sorted(p for p in (base / split).iterdir() if p.is_dir()):
            for folder, _, names in sorted(os.walk(cls, followlinks=True)):
                found += [Path(folder) / n for n in sorted(names) if n.lower().endswith(IMAGE_SUFFIXES)]
    return found


def load_folder(root: str, need_train: bool = True, transform=None, workers: int | None = None) -> FolderData:
    """Open PATH/train and PATH/val as image-folder data sets (train optional for evaluation)."""
    workers = default_workers() if workers is None else workers
    check_images(root, need_train)  # before a DataLoader worker meets a bad file mid-epoch
    base = check_folder(root, need_train)
    test = _image_folder(base / "val", transform or eval_transform())
    train = _image_folder(base / "train", train_transform()) if need_train else None
    classes = tuple(test.classes)
    num_classes = max(test.class_to_idx.values()) + 1
    if train is not None:
        num_classes = max(num_classes, max(train.class_to_idx.values()) + 1)
    return FolderData(f"imagefolder:{root}", str(base), train, test, classes, num_classes, CROP, workers=workers)
