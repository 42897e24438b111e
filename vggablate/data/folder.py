"""Image folders (``train/`` and ``val/``), preprocessed as torchvision's VGG weights expect.

Class folders map to indices as torchvision's ImageFolder does (sorted names -> 0..K-1),
which is ImageNet's index order when the folder holds all 1000 WNID folders (ILSVRC's
indices follow the sorted WNIDs). A folder whose class folders are all integers (``0``,
``207``, ...) maps each to that index instead, so a subset such as Imagenette can be
evaluated with a 1000-class model after renaming its WNID folders to their ImageNet indices.
"""

from __future__ import annotations

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


def load_folder(root: str, need_train: bool = True, transform=None, workers: int | None = None) -> FolderData:
    """Open PATH/train and PATH/val as image-folder data sets (train optional for evaluation)."""
    workers = default_workers() if workers is None else workers
    base = check_folder(root, need_train)
    test = _image_folder(base / "val", transform or eval_transform())
    train = _image_folder(base / "train", train_transform()) if need_train else None
    classes = tuple(test.classes)
    num_classes = max(test.class_to_idx.values()) + 1
    if train is not None:
        num_classes = max(num_classes, max(train.class_to_idx.values()) + 1)
    return FolderData(f"imagefolder:{root}", str(base), train, test, classes, num_classes, CROP, workers=workers)
