"""Fashion-MNIST: the idx fixture through the loader, each search location, the errors, and the CLI."""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import bench_main

from vggablate.data import catalog, fashion
from vggablate.errors import UsageError

SYSTEM = Path(fashion.SYSTEM_DIRS[0])
REAL = SYSTEM / "train-images-idx3-ubyte.gz"
# The .gz md5s torchvision's FashionMNIST checks (torchvision.datasets.FashionMNIST.resources).
TORCHVISION_MD5 = {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                   "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"}  # fmt: skip


def write_idx(folder: Path, n_train: int = 60, n_test: int = 20, gz: bool = True, seed: int = 0) -> dict:
    """Write the four idx files (gzipped like Debian's, or plain) with the real names; return the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        y = (np.arange(n) % 10).astype(np.uint8)
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        x[:, 0, 0] = y  # each image carries its label, so a test can tell image-label pairs apart
        arrays[split] = x, y
        images = struct.pack(">IIII", 0x803, n, 28, 28) + x.tobytes()
        labels = struct.pack(">II", 0x801, n) + y.tobytes()
        for part, data in (("images", images), ("labels", labels)):
            path = folder / fashion.FILES[split, part]
            if gz:  # mtime=0: a re-gzip, as Debian's, whose md5 is not the original archive's
                path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                path.write_bytes(data)
    return arrays


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """Point the cache at an empty temporary folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("VGGABLATE_DATA", str(folder))
    return folder


def test_loader_reads_counts_labels_and_pads_to_32(tmp_path, cache):
    arrays = write_idx(tmp_path / "d", gz=False)
    data = fashion.load_fashion_mnist(str(tmp_path / "d"), system_dirs=())
    assert data.train_x.shape == (60, 1, 32, 32) and data.test_x.shape == (20, 1, 32, 32)
    assert data.train_x.dtype.is_floating_point is False and (data.num_classes, data.in_channels) == (10, 1)
    assert data.train_y.tolist() == arrays["train"][1].tolist() and data.test_y.tolist() == [i % 10 for i in range(20)]
    assert np.array_equal(data.train_x[:, 0, 2:30, 2:30].numpy(), arrays["train"][0])  # 2 px border each side
    border = data.train_x.clone()
    border[:, :, 2:30, 2:30] = 0
    assert int(border.sum()) == 0
    assert (data.crop_pad, data.flip, data.name) == (4, True, "fashion-mnist")
    from vggablate.data.base import channel_stats

    mean, std = channel_stats(data.train_x)  # the histogram's figures equal the direct ones
    assert data.mean == pytest.approx(mean, rel=1e-12) and data.std == pytest.approx(std, rel=1e-9)


def test_reader_agrees_with_torchvisions(tmp_path):
    from torchvision.datasets.mnist import read_image_file, read_label_file

    write_idx(tmp_path, gz=False)
    for split in ("train", "test"):
        images, labels = (tmp_path / fashion.FILES[split, p] for p in ("images", "labels"))
        assert np.array_equal(fashion.read_idx(images, "images"), read_image_file(str(images)).numpy())
        assert np.array_equal(fashion.read_idx(labels, "labels"), read_label_file(str(labels)).numpy())


def test_regzipped_files_are_decompressed_into_the_cache_not_rejected(tmp_path, cache):
    system = tmp_path / "system"
    arrays = write_idx(system)
    md5s = {hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest() for p in system.glob("*.gz")}
    assert not md5s & TORCHVISION_MD5  # torchvision would refuse these files
    ready = fashion.prepare(None, download=False, system_dirs=(str(system),), counts={"train": 60, "test": 20})
    raw = cache / "FashionMNIST" / "raw"
    assert ready.folder == raw and ready.source == f"{system} (decompressed into {raw})"
    for name in fashion.FILES.values():
        assert (raw / name).is_file() and not (raw / name).is_symlink()
    assert not list(raw.glob("*.part")) and sorted(p.name for p in system.iterdir()) == sorted(
        n + ".gz" for n in fashion.FILES.values()
    )
    data = fashion.load_fashion_mnist(None, system_dirs=(str(system),), counts={"train": 60, "test": 20})
    assert np.array_equal(data.test_x[:, 0, 2:30, 2:30].numpy(), arrays["test"][0])
    # The next run finds the decompressed files in the cache: nothing is decompressed again.
    assert fashion.locate(None, (str(system),)).origin == "cache"


def test_locations_are_searched_in_order(tmp_path, cache):
    data_dir, system = tmp_path / "data", tmp_path / "system"
    write_idx(data_dir / "FashionMNIST" / "raw", n_train=30, gz=False)  # torchvision's layout
    write_idx(cache / "FashionMNIST" / "raw", n_train=40, gz=False)
    write_idx(system, n_train=50)
    dirs = (str(system),)

    def train_count(data_dir: Path | None) -> int:
        ready = fashion.prepare(data_dir and str(data_dir), download=False, system_dirs=dirs, counts=None)
        return fashion.check_idx(ready.folder / "train-labels-idx1-ubyte", "labels")

    assert train_count(data_dir) == 30  # --data-dir wins over the cache
    assert train_count(tmp_path / "empty") == 40  # the cache wins over the system folder
    for name in fashion.FILES.values():
        (cache / "FashionMNIST" / "raw" / name).unlink()
    assert train_count(None) == 50  # then the system folder (decompressed into the cache)
    write_idx(tmp_path / "flat", n_train=20)  # the four .gz files directly in --data-dir
    assert train_count(tmp_path / "flat") == 20
    assert fashion.locate(str(tmp_path / "flat"), dirs).origin == "--data-dir"


def test_missing_everywhere_is_one_line_naming_the_package(tmp_path, cache):
    with pytest.raises(UsageError) as info:
        fashion.prepare(str(tmp_path / "none"), download=False, system_dirs=(str(tmp_path / "sys"),))
    text = str(info.value)
    assert "\n" not in text and "apt-get install dataset-fashion-mnist" in text and "download" in text
    assert str(tmp_path / "none") in text and str(tmp_path / "sys") in text and "--data-dir" in text


def test_no_download_run_stops_before_its_folder(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(fashion, "SYSTEM_DIRS", (str(tmp_path / "sys"),))  # as on a machine without the package
    out = tmp_path / "runs"
    done = bench_main("run", "--archs", "8,M,16,M", "--head", "gap", "--metrics", "accuracy", "--device", "cpu",
                      "--dataset", "fashion-mnist", "--no-download", "--out", str(out))  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert "apt-get install dataset-fashion-mnist" in done.stderr and "downloading is off: --no-download" in done.stderr
    assert not out.exists()


def test_failed_download_is_the_same_clear_error(tmp_path, cache, monkeypatch):
    import torchvision.datasets

    def offline(root, train, download):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried http://x/, got:\n<urlopen error>")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(UsageError, match=r"the download failed: <urlopen error>.*apt-get install dataset-fashion"):
        fashion.prepare(None, download=True, system_dirs=())


def test_download_goes_through_torchvision_into_the_cache(tmp_path, cache, monkeypatch):
    import torchvision.datasets

    def fetched(root, train, download):  # what torchvision leaves: .gz and the extracted files
        assert download and train
        write_idx(Path(root) / "FashionMNIST" / "raw", gz=False)

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", fetched)
    ready = fashion.prepare(None, download=True, system_dirs=(), counts={"train": 60, "test": 20})
    assert ready.source == f"downloaded into {cache / 'FashionMNIST' / 'raw'}"


@pytest.mark.parametrize("damage", ["truncated", "magic", "size"])
def test_damaged_file_is_named(tmp_path, cache, damage):
    write_idx(tmp_path / "d", gz=False)
    path = tmp_path / "d" / "train-images-idx3-ubyte"
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[:-100])
    elif damage == "magic":
        path.write_bytes(struct.pack(">I", 0x801) + data[4:])
    else:
        path.write_bytes(data[:8] + struct.pack(">II", 32, 32) + data[16:])
    with pytest.raises(UsageError, match="train-images-idx3-ubyte") as info:
        fashion.load_fashion_mnist(str(tmp_path / "d"), system_dirs=())
    assert "\n" not in str(info.value)


def test_damaged_system_file_leaves_nothing_in_the_cache(tmp_path, cache):
    system = tmp_path / "system"
    write_idx(system)
    gz = system / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:200])  # a truncated gzip stream
    with pytest.raises(UsageError, match="t10k-images-idx3-ubyte.gz") as info:
        fashion.prepare(None, download=False, system_dirs=(str(system),), counts=None)
    assert "reinstall" in str(info.value)
    raw = cache / "FashionMNIST" / "raw"
    assert not (raw / "t10k-images-idx3-ubyte").exists() and not list(raw.glob(".*part"))


def test_the_real_counts_are_required_outside_data_dir(tmp_path, cache):
    write_idx(tmp_path / "system")  # 60/20: a subset is fine in --data-dir, not where the real set should be
    with pytest.raises(UsageError, match="60 items, not 60000"):
        fashion.prepare(None, download=False, system_dirs=(str(tmp_path / "system"),))


def test_cpu_default_is_fashion_mnist_where_it_is_here_else_clutter(tmp_path, cache, monkeypatch):
    assert catalog.DEFAULTS["cpu"] == ("fashion-mnist", "clutter")
    monkeypatch.setattr(fashion, "SYSTEM_DIRS", (str(tmp_path / "sys"),))  # as on a machine without the package
    assert catalog.default_dataset("cpu", str(tmp_path / "none")) == "clutter"
    write_idx(tmp_path / "d")
    assert catalog.default_dataset("cpu", str(tmp_path / "d")) == "fashion-mnist"


@pytest.mark.skipif(not REAL.is_file(), reason=f"{REAL} absent: apt-get install dataset-fashion-mnist")
def test_the_installed_data_set(cache):
    import torch

    from vggablate.data import load_dataset

    data = load_dataset("fashion-mnist")
    assert (data.num_train, len(data.test_y), data.input_size) == (60000, 10000, 32)
    assert torch.bincount(data.train_y).tolist() == [6000] * 10
    assert torch.bincount(data.test_y).tolist() == [1000] * 10
    assert catalog.source_phrase("fashion-mnist", None, False) == f"from {cache / 'FashionMNIST' / 'raw'}"


def test_run_trains_on_the_fixture(tmp_path, cache):
    write_idx(tmp_path / "d", n_train=64, n_test=20)
    out = tmp_path / "runs"
    done = bench_main("run", "--archs", "8,M,16,M", "--head", "gap", "--metrics", "accuracy", "--device", "cpu",
                      "--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "d"), "--epochs", "1",
                      "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"accuracy: fashion-mnist from {tmp_path / 'd'} (gzipped: decompressed into" in done.stderr
    (journal,) = out.glob("*/rows.jsonl")
    (row,) = [json.loads(line) for line in journal.read_text().splitlines()]
    assert row["error"] is None and row["dataset"] == "fashion-mnist"
    assert (row["in_channels"], row["input_size"], row["num_classes"], row["steps"]) == (1, 32, 10, 1)
