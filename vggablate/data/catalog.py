"""The data set catalog: one entry per data set, the one place that knows what a data set name means.

Each entry holds its name and how its parameters parse, its classes, channels and input size,
an availability check (is it here without downloading, and where?), what to do once before a
sweep's trials (decompress, extract, download), a loader and, for the torch-free report, an
optional sample reader. The default data set of each device is chosen here too (DEFAULTS).
A new data set is one entry in ``ENTRIES``; the CLI, the sweep, the trainer's recipes and the
report look names up here. Importable without torch: loaders import it when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vggablate.data import fashion
from vggablate.data.paths import default_data_dir
from vggablate.errors import UsageError


@dataclass(frozen=True)
class Facts:
    """What a net trained on the data set must fit, and how much a pass over it costs."""

    classes: int  # an image folder's: counted from its class folders
    channels: int
    input_size: int  # side of the square images the net sees
    train_images: int | None  # None: unknown before the data is read
    test_images: int | None


@dataclass(frozen=True)
class Source:
    """Where a data set is, found without downloading anything."""

    where: str  # a folder, or what builds it in memory
    note: str = ""  # what the first load will do: "gzipped: decompressed into PATH"
    generated: bool = False  # built in memory: always available, nothing to say in a run's header


@dataclass(frozen=True)
class LoadOptions:
    """How to load: where files are and may be written, whether to download, and per-kind settings."""

    data_dir: str | None = None  # looked in first; decompressed and downloaded files go here (else the cache)
    download: bool = False
    workers: int | None = None  # image folders: DataLoader processes (None: the default)
    synthetic_shape: tuple[int, int, int] = (3, 32, 32)
    num_classes: int = 10  # synthetic only


@dataclass(frozen=True)
class Samples:
    """The first images of a split, torch-free, for a sample grid: (N, H, W) uint8 and labels."""

    images: Any
    labels: Any
    title: str
    class_names: tuple[str, ...] | None = None  # None: the label number is the name


@dataclass(frozen=True)
class DatasetEntry:
    """One data set: what its name means, what it holds, where it is and how to load it."""

    name: str  # as typed; with takes_parameters, the part before ":"
    usage: str  # how a user writes it: "clutter[:key=N,...]", "imagefolder:PATH"
    about: str
    facts: Callable[[str], Facts]
    locate: Callable[[str, str | None], Source | None]  # (name, data_dir); None: absent bar a download
    prepare: Callable[[str, LoadOptions], str]  # once per sweep; returns where it came from ("" if generated)
    load: Callable[[str, LoadOptions], Any]  # -> TensorData or FolderData
    parse: Callable[[str], str] = lambda name: name  # check the parameters; return the canonical name
    takes_parameters: bool = False  # "NAME:..." names this entry
    samples: Callable[[str, str, int, str | None], Samples | None] | None = None  # (name, split, n, data_dir)

    def matches(self, name: str) -> bool:
        """Say whether a data set name asks for this entry."""
        return name == self.name or (self.takes_parameters and name.startswith(self.name + ":"))


# --- clutter: generated from scikit-learn's digits (vggablate/data/clutter.py) ---------------------------
DIGITS_TRAIN, DIGITS_TEST = 1437, 360  # digits' fixed stratified 80/20 split of 1,797


def _clutter_facts(name: str) -> Facts:
    from vggablate.data.clutter import parse_clutter

    p = parse_clutter(name)
    return Facts(10, 1, p.canvas, DIGITS_TRAIN * p.placements, DIGITS_TEST * p.test_placements)


def _clutter_samples(name: str, split: str, n: int, data_dir: str | None) -> Samples:
    from vggablate.data.clutter import make_clutter, parse_clutter, sample_grid

    params = parse_clutter(name)
    train, test = make_clutter(params)
    images, labels = sample_grid(train if split == "train" else test, 1, n)
    return Samples(images, labels, params.name)


def _generated(what: str) -> Callable[[str, str | None], Source]:
    return lambda name, data_dir: Source(what, generated=True)


def _nothing_to_prepare(name: str, options: LoadOptions) -> str:
    return ""


def _clutter_prepare(name: str, options: LoadOptions) -> str:
    from vggablate.data.clutter import check_fits, parse_clutter

    check_fits(parse_clutter(name))  # bad parameters, or a set too large for memory: one line before any work
    return ""


def _clutter_parse(name: str) -> str:
    from vggablate.data.clutter import parse_clutter

    return parse_clutter(name).name


def _load_clutter(name: str, options: LoadOptions) -> Any:
    from vggablate.data.sources import load_clutter

    return load_clutter(name)


def _load_digits(name: str, options: LoadOptions) -> Any:
    from vggablate.data.sources import load_digits_data

    return load_digits_data()


def _load_synthetic(name: str, options: LoadOptions) -> Any:
    from vggablate.data.sources import load_synthetic

    return load_synthetic(options.synthetic_shape, options.num_classes)


# --- fashion-mnist: files found, decompressed or downloaded (vggablate/data/fashion.py) -------------
def _fashion_locate(name: str, data_dir: str | None) -> Source | None:
    found = fashion.locate(data_dir)
    if found is None:
        return None
    note = f"gzipped: decompressed into {fashion.cache_dir(data_dir) / fashion.RAW}" if found.gzipped else ""
    return Source(str(found.folder), note)


def _fashion_samples(name: str, split: str, n: int, data_dir: str | None) -> Samples | None:
    read = fashion.read_samples(data_dir, split, n)
    return None if read is None else Samples(read[0], read[1], f"{name} (28x28, before padding)", fashion.CLASSES)


# --- cifar10, cifar100: python batches in the data dir, or downloaded (vggablate/data/sources.py) ----
def _cifar_root(data_dir: str | None) -> Path:
    return Path(data_dir or default_data_dir()).expanduser()


def _cifar_locate(name: str, data_dir: str | None) -> Source | None:
    from vggablate.data.sources import CIFAR, _batches_folder

    root = _cifar_root(data_dir)
    folder = _batches_folder(root, CIFAR[name])
    if folder is not None:
        return Source(str(folder))
    archive = root / Path(CIFAR[name]["url"]).name
    return Source(str(archive), f"extracted into {root}") if archive.is_file() else None


def _cifar_prepare(name: str, options: LoadOptions) -> str:
    from vggablate.data.sources import cifar_dir

    # Once, before the trials: a missing data set is one error, and the trials find it extracted.
    return str(cifar_dir(name, str(_cifar_root(options.data_dir)), options.download))


def _load_cifar(name: str, options: LoadOptions) -> Any:
    from vggablate.data.sources import load_cifar

    return load_cifar(name, str(_cifar_root(options.data_dir)), options.download)


# --- imagefolder:PATH, streamed (vggablate/data/folder.py) ------------------------------------------
def imagefolder_path(name: str) -> str:
    """Return the PATH of ``imagefolder:PATH``; UsageError without one."""
    path = name.split(":", 1)[1] if ":" in name else ""
    if not path:
        raise UsageError("imagefolder needs a path: --dataset imagefolder:PATH (with train/ and val/)")
    return path


def _folder_locate(name: str, data_dir: str | None) -> Source | None:
    path = Path(imagefolder_path(name)).expanduser()
    return Source(str(path)) if (path / "val").is_dir() else None


def _folder_prepare(name: str, options: LoadOptions) -> str:
    from vggablate.data.folder import check_folder, check_images

    check_images(imagefolder_path(name))  # an unreadable image: one line here, not a crash per trial
    return str(check_folder(imagefolder_path(name)))


def _load_folder(name: str, options: LoadOptions) -> Any:
    from vggablate.data.folder import load_folder

    return load_folder(imagefolder_path(name), workers=options.workers)


def _folder_facts(name: str) -> Facts:
    from vggablate.data.folder import class_count

    return Facts(class_count(imagefolder_path(name)), 3, 224, None, None)


def _fixed(facts: Facts) -> Callable[[str], Facts]:
    return lambda name: facts


ENTRIES = (
    DatasetEntry("clutter", "clutter[:key=N,...]", "cluttered, translated digits on a 40 px canvas (generated)",
                 _clutter_facts, _generated("generated from scikit-learn's digits"), _clutter_prepare,
                 _load_clutter, _clutter_parse, takes_parameters=True, samples=_clutter_samples),
    DatasetEntry("digits", "digits", "scikit-learn's 8x8 digits upsampled to 32x32 (bundled)",
                 _fixed(Facts(10, 3, 32, DIGITS_TRAIN, DIGITS_TEST)), _generated("scikit-learn's bundled digits"),
                 _nothing_to_prepare, _load_digits),
    DatasetEntry(fashion.NAME, fashion.NAME, "Fashion-MNIST, 28x28 grayscale clothing padded to 32x32 (Xiao et "
                 "al. 2017)", _fixed(Facts(10, 1, fashion.PADDED, 60000, 10000)), _fashion_locate,
                 lambda name, o: fashion.prepare(o.data_dir, o.download).source,
                 lambda name, o: fashion.load_fashion_mnist(o.data_dir, o.download), samples=_fashion_samples),
    DatasetEntry("cifar10", "cifar10", "CIFAR-10, 32x32 colour, 10 classes (downloaded)",
                 _fixed(Facts(10, 3, 32, 50000, 10000)), _cifar_locate, _cifar_prepare, _load_cifar),
    DatasetEntry("cifar100", "cifar100", "CIFAR-100, 32x32 colour, 100 classes (downloaded)",
                 _fixed(Facts(100, 3, 32, 50000, 10000)), _cifar_locate, _cifar_prepare, _load_cifar),
    DatasetEntry("imagefolder", "imagefolder:PATH", "PATH/train/ and PATH/val/, one folder per class, 224x224",
                 _folder_facts, _folder_locate, _folder_prepare, _load_folder,
                 lambda name: f"imagefolder:{imagefolder_path(name)}", takes_parameters=True),
    DatasetEntry("synthetic", "synthetic", "random images and labels, for throughput only",
                 _fixed(Facts(10, 3, 32, 2048, 512)), _generated("random tensors"), _nothing_to_prepare,
                 _load_synthetic),
)  # fmt: skip

# The data set a run trains on when none is named: per device, the first of these that is here
# without a download (a generated one always is). CPU: Fashion-MNIST when installed (real data with
# published figures; the default run trains vgg11 and vgg16 to 85-86% in about a minute, see
# docs/benchmarks.md, "Issue 19"), else the cluttered digits, built in memory. CUDA: CIFAR-10 when in
# the data dir.
DEFAULTS = {"cpu": ("fashion-mnist", "clutter"), "cuda": ("cifar10", "digits")}


def list_datasets() -> list[str]:
    """Return every entry's usage, in catalog order, for help texts and messages."""
    return [e.usage for e in ENTRIES]


def find_dataset(name: str) -> DatasetEntry | None:
    """Return the entry a data set name asks for, or None."""
    return next((e for e in ENTRIES if e.matches(name)), None)


def get_dataset(name: str) -> DatasetEntry:
    """Return the entry a data set name asks for; UsageError naming the choices if none does."""
    entry = find_dataset(name)
    if entry is None:
        raise UsageError(f"unknown dataset {name!r}; choose one of {', '.join(list_datasets())}")
    return entry


def check_dataset(name: str) -> DatasetEntry:
    """Return the entry after checking the name's parameters (one line for a bad one, before any work)."""
    entry = get_dataset(name)
    entry.parse(name)
    return entry


def default_dataset(device: str, data_dir: str | None = None) -> str:
    """Return the data set a run on the device trains on when none is named (see DEFAULTS)."""
    choices = DEFAULTS["cuda" if device.startswith("cuda") else "cpu"]
    return next((n for n in choices[:-1] if get_dataset(n).locate(n, data_dir) is not None), choices[-1])


def defaults_phrase() -> str:
    """Spell DEFAULTS for help texts: 'cpu: clutter; cuda: cifar10 when here, else digits'."""
    return "; ".join(f"{device}: {' when here, else '.join(names)}" for device, names in DEFAULTS.items())


def source_phrase(name: str, data_dir: str | None, download: bool) -> str:
    """Say where a data set will come from, for a run's header: 'from PATH', '' for a generated one."""
    entry = check_dataset(name)
    source = entry.locate(name, data_dir)
    if source is None:
        return "to be downloaded" if download else ""  # prepare() then names every place looked in
    if source.generated:
        return ""
    return f"from {source.where}" + (f" ({source.note})" if source.note else "")
