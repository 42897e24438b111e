import pickle
import tarfile

import numpy as np
import pytest
import torch

from vggablate.data import DeviceLoader, load_cifar, load_dataset, random_crop, random_flip
from vggablate.data.sources import CIFAR
from vggablate.errors import UsageError


def write_cifar10(root, n=12, seed=0):
    """Write a tiny CIFAR-10 in the python format: five train batches and a test batch."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in CIFAR["cifar10"]["train"] + CIFAR["cifar10"]["test"]:
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": list(rng.integers(0, 10, n))}
        (folder / name).write_bytes(pickle.dumps(entry))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}))
    return folder


def test_digits_split_is_fixed_stratified_and_upsampled():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert a.train_x.shape == (1437, 3, 32, 32) and a.test_x.shape == (360, 3, 32, 32)
    assert a.train_x.dtype == torch.uint8 and a.num_classes == 10 and a.input_size == 32
    assert torch.equal(a.test_y, b.test_y) and torch.equal(a.train_x, b.train_x)
    assert a.test_y.bincount().min() >= 35  # stratified: every class near 36 of 360
    assert len(a.mean) == 3 and 0 < a.mean[0] < 255 and a.std[0] > 0
    assert a.flip is False  # mirrored digits are not digits


def test_synthetic_shape():
    d = load_dataset("synthetic", synthetic_shape=(3, 16, 16), num_classes=7)
    assert d.train_x.shape[1:] == (3, 16, 16) and d.num_classes == 7 and int(d.train_y.max()) < 7


def test_cifar_reader_reads_python_batches(tmp_path):
    folder = write_cifar10(tmp_path)
    d = load_cifar("cifar10", str(tmp_path))
    assert d.train_x.shape == (60, 3, 32, 32) and d.test_x.shape == (12, 3, 32, 32)
    first = pickle.loads((folder / "data_batch_1").read_bytes())
    # Row layout: 1024 red, then 1024 green, then 1024 blue values, each row-major.
    assert torch.equal(d.train_x[0], torch.from_numpy(first["data"][0].reshape(3, 32, 32)))
    assert d.train_y[:12].tolist() == [int(v) for v in first["labels"]]
    assert d.crop_pad == 4 and d.flip and d.num_classes == 10
    assert load_cifar("cifar10", str(folder)).num_train == 60  # the batches folder itself is accepted


def test_cifar_archive_is_extracted_without_download(tmp_path):
    write_cifar10(tmp_path / "src")
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    assert load_dataset("cifar10", str(tmp_path)).num_train == 60


def test_missing_cifar_names_the_path(tmp_path):
    with pytest.raises(UsageError, match=str(tmp_path / "nowhere")) as err:
        load_dataset("cifar10", str(tmp_path / "nowhere"), download=False)
    assert "data_batch_1" in str(err.value) and "\n" not in str(err.value)
    # The way out names that folder and each other choice, not "allow downloading" in the abstract.
    text = str(err.value)
    assert f"put them in {str(tmp_path / 'nowhere')!r}, pass another --data-dir" in text
    assert "drop --no-download" in text


def test_corrupt_cifar_batch_names_the_file(tmp_path):
    folder = write_cifar10(tmp_path)
    (folder / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(UsageError, match="data_batch_3.*python-format pickle"):
        load_dataset("cifar10", str(tmp_path))


def test_corrupt_archive_and_bad_names(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"garbage")
    with pytest.raises(UsageError, match="cannot extract"):
        load_dataset("cifar10", str(tmp_path))
    with pytest.raises(UsageError, match="unknown dataset"):
        load_dataset("mnist")
    with pytest.raises(UsageError, match="train/ and val/"):
        load_dataset(f"imagefolder:{tmp_path / 'missing'}")


def write_image_folder(root, classes=("cat", "dog"), per_class=2):
    """Write a tiny image folder: train/ and val/, a few 12x12 PNGs per class."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for cls in classes:
            (root / split / cls).mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(root / split / cls / f"{i}.png")
    return root


def test_an_unreadable_image_is_refused_before_training_named_and_counted(tmp_path):
    from torchvision.datasets.folder import IMG_EXTENSIONS

    from vggablate.data.folder import IMAGE_SUFFIXES, check_images

    assert IMAGE_SUFFIXES == IMG_EXTENSIONS  # the files ImageFolder would load are the ones checked
    write_image_folder(tmp_path)
    check_images(str(tmp_path))  # a sound folder passes
    (tmp_path / "val" / "cat" / "junk.jpg").write_text("not an image")  # crashed training mid-epoch
    (tmp_path / "val" / "cat" / "notes.txt").write_text("ignored, as ImageFolder ignores it")
    junk = tmp_path / "val" / "cat" / "junk.jpg"
    with pytest.raises(UsageError, match=rf"1 file PIL cannot read as an image, first '{junk}' \(cannot identify"):
        load_dataset(f"imagefolder:{tmp_path}", workers=0)
    (tmp_path / "train" / "dog" / "1.png").write_bytes((tmp_path / "train" / "dog" / "1.png").read_bytes()[:40])
    with pytest.raises(
        UsageError, match=r"2 files PIL cannot read .* first '.*train/dog/1.png'.*remove or replace them"
    ):
        check_images(str(tmp_path))
    junk.unlink()
    check_images(str(tmp_path), need_train=False)  # evaluation reads val/ alone


def test_random_crop_shifts_within_padding():
    x = torch.ones(64, 1, 8, 8, dtype=torch.uint8)
    g = torch.Generator().manual_seed(0)
    out = random_crop(x, 2, g)
    assert out.shape == x.shape and out.dtype == torch.uint8
    sums = out.flatten(1).sum(1)
    assert int(sums.min()) >= 6 * 6 and int(sums.max()) == 64 and len(set(sums.tolist())) > 1


def test_random_crop_is_each_image_sliced_at_its_offset():
    # Against a per-image slice of the padded image at the offset the generator drew.
    x = torch.randint(0, 256, (16, 3, 8, 6), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    out = random_crop(x, 3, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    dy, dx = (torch.randint(0, 7, (16,), generator=g) for _ in range(2))
    padded = torch.nn.functional.pad(x, (3, 3, 3, 3))
    for i in range(16):
        assert torch.equal(out[i], padded[i, :, dy[i] : dy[i] + 8, dx[i] : dx[i] + 6])


def test_random_flip_mirrors_about_half():
    x = torch.arange(4, dtype=torch.uint8).view(1, 1, 1, 4).repeat(200, 1, 1, 1)
    out = random_flip(x, torch.Generator().manual_seed(0))
    flipped = (out[:, 0, 0, 0] == 3).sum().item()
    assert 60 < flipped < 140 and torch.equal(out[out[:, 0, 0, 0] == 3][0], x[0].flip(-1))


def test_device_loader_batches_normalises_and_is_seeded():
    d = load_dataset("digits")
    train = DeviceLoader(d, 100, train=True, seed=3)
    batches = list(train)
    assert len(batches) == len(train) == 14 and all(len(y) == 100 for _, y in batches)  # last partial dropped
    x = torch.cat([b[0] for b in batches])
    assert x.dtype == torch.float32 and abs(float(x.mean())) < 0.2 and 0.7 < float(x.std()) < 1.3
    again = list(DeviceLoader(d, 100, train=True, seed=3))
    assert torch.equal(again[0][0], batches[0][0]) and torch.equal(again[0][1], batches[0][1])
    test = list(DeviceLoader(d, 100, train=False))
    assert sum(len(y) for _, y in test) == 360 and torch.equal(torch.cat([y for _, y in test]), d.test_y)


def test_batch_with_mismatched_labels_counts_in_good_english(tmp_path):
    from vggablate.data.sources import read_cifar_batch

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": np.zeros((1, 3072), dtype=np.uint8), "labels": [0, 1]}))
    with pytest.raises(UsageError, match="has 1 image but 2 labels$"):
        read_cifar_batch(path, "labels")
