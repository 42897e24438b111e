"""The data set catalog: every entry is found by its name, described truly, loadable, and has a recipe."""

from __future__ import annotations

import pytest
from test_clutter import SMALL
from test_data import write_cifar10
from test_fashion_mnist import write_idx

from bench.common import DATASETS_HELP
from vggablate.data import catalog, load_dataset
from vggablate.data.catalog import ENTRIES, get_dataset
from vggablate.errors import UsageError
from vggablate.training.recipe import RECIPES, TrainConfig, default_train_config

# A name for each entry, and how to make it loadable here (None: generated, nothing to write).
NAMES = {"clutter": SMALL, "imagefolder": "imagefolder:{tmp}/folder"}
WRITE = {"fashion-mnist": lambda tmp: write_idx(tmp), "cifar10": lambda tmp: write_cifar10(tmp)}
REAL_COUNTS = {"clutter", "digits", "synthetic"}  # generated: the facts' counts are the data's own


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_entry_is_found_named_and_has_a_recipe(entry, tmp_path):
    name = NAMES.get(entry.name, entry.name).format(tmp=tmp_path)
    assert get_dataset(name) is entry and entry.usage in DATASETS_HELP
    assert entry.name in RECIPES and isinstance(default_train_config(name, "cpu"), TrainConfig)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.name in REAL_COUNTS | set(WRITE)], ids=lambda e: e.name)
def test_facts_describe_the_loaded_data(entry, tmp_path, monkeypatch):
    monkeypatch.setenv("VGGABLATE_DATA", str(tmp_path / "cache"))
    name = NAMES.get(entry.name, entry.name)
    if entry.name in WRITE:
        WRITE[entry.name](tmp_path)
    assert entry.locate(name, str(tmp_path)) is not None
    data = load_dataset(name, str(tmp_path))
    facts = entry.facts(name)
    assert (facts.classes, facts.channels, facts.input_size) == (data.num_classes, data.in_channels, data.input_size)
    if entry.name in REAL_COUNTS:
        assert (facts.train_images, facts.test_images) == (data.num_train, len(data.test_y))


def test_unknown_and_incomplete_names_are_one_line():
    with pytest.raises(UsageError, match="unknown dataset 'mnist'; choose one of clutter") as info:
        get_dataset("mnist")
    assert "fashion-mnist" in str(info.value) and "imagefolder:PATH" in str(info.value)
    with pytest.raises(UsageError, match="imagefolder needs a path"):
        catalog.check_dataset("imagefolder")
    with pytest.raises(UsageError, match="unknown clutter parameter"):
        catalog.check_dataset("clutter:size=3")
    assert catalog.find_dataset("digits:x") is None  # only parametrised entries take ":..."


def test_the_header_says_where_files_come_from(tmp_path, monkeypatch):
    monkeypatch.setenv("VGGABLATE_DATA", str(tmp_path / "cache"))
    assert catalog.source_phrase("clutter", None, True) == ""  # generated: nothing to say
    write_cifar10(tmp_path)
    assert catalog.source_phrase("cifar10", str(tmp_path), True) == f"from {tmp_path / 'cifar-10-batches-py'}"
    assert catalog.source_phrase("cifar100", str(tmp_path), True) == "to be downloaded"
    assert catalog.default_dataset("cuda", str(tmp_path)) == "cifar10"
    assert catalog.default_dataset("cuda", str(tmp_path / "none")) == "digits"


@pytest.mark.parametrize("classes, count", [(("cat", "dog"), 2), (("0", "207"), 208)])
def test_image_folder_facts_count_the_classes_the_loader_maps(tmp_path, classes, count):
    from test_data import write_image_folder

    name = f"imagefolder:{write_image_folder(tmp_path / 'folder', classes=classes, per_class=1)}"
    facts = get_dataset(name).facts(name)
    assert facts.classes == load_dataset(name, workers=0).num_classes == count  # known when trials are planned
