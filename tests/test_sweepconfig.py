import pytest

from bench.cmd_run import split_archs
from vggablate.errors import UsageError
from vggablate.run.sweepconfig import (
    SweepConfig,
    build_config,
    device_defaults,
    differences,
    from_mapping,
    read_sweep_file,
    to_toml,
)


@pytest.mark.parametrize(
    "text, items",
    [
        ("vgg11,vgg16", ["vgg11", "vgg16"]),
        ("vgg11,64,M,128k5x2,M,vgg16", ["vgg11", "64,M,128k5x2,M", "vgg16"]),
        ("vgg1*_bn", ["vgg1*_bn"]),
        ("64,M;32,M", ["64,M", "32,M"]),
        ("vgg11, ,vgg13", ["vgg11", "vgg13"]),
    ],
)
def test_split_archs(text, items):
    assert split_archs(text) == items


def test_precedence_defaults_file_flags():
    cfg = build_config(
        [
            {"device": "cpu", **device_defaults("cpu")},
            {"archs": ("vgg11",), "batch_sizes": (1, 8), "seeds": 3},
            {"batch_sizes": (4,)},
        ]
    )
    assert cfg.archs == ("vgg11",) and cfg.batch_sizes == (4,) and cfg.seeds == 3
    assert cfg.precisions == ("fp32",)


def test_toml_round_trip(tmp_path):
    cfg = SweepConfig(archs=("vgg11", "64,M"), widths=(0.25, 0.5), epochs=2.0, name="x")
    path = tmp_path / "config.toml"
    path.write_text(to_toml(cfg))
    assert SweepConfig(**read_sweep_file(path)) == cfg


def test_sweep_file_aliases_and_single_values(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('archs = ["vgg11"]\nprecision = "bf16"\nbatch_size = 8\nwidth = 0.5\n')
    assert read_sweep_file(path) == {"archs": ("vgg11",), "precisions": ("bf16",), "batch_sizes": (8,),
                                     "widths": (0.5,)}  # fmt: skip


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"archs": ["vgg11"], "colour": "red"}, "unknown key 'colour'"),
        ({"archs": ["vgg11"], "batch_sizes": ["x"]}, "batch_sizes must be a list of whole numbers"),
    ],
)
def test_bad_mappings(data, fragment):
    with pytest.raises(UsageError, match=fragment):
        from_mapping(data, "config file 's.toml'")


@pytest.mark.parametrize(
    "layer, fragment",
    [
        ({}, "no archs given"),
        ({"archs": ("vgg11",), "metrics": ("speed",)}, "unknown metric speed"),
        ({"archs": ("vgg11",), "batch_sizes": (0,)}, "batch sizes must be >= 1"),
        ({"archs": ("vgg11",), "precisions": ("int8",)}, "unknown precision int8"),
        ({"archs": ("vgg11",), "seeds": 0}, "seeds must be >= 1"),
        ({"archs": ("vgg11",), "widths": (0.0,)}, "width must be > 0"),
    ],
)
def test_invalid_configs(layer, fragment):
    with pytest.raises(UsageError, match=fragment):
        build_config([layer])


def test_unreadable_sweep_file(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        read_sweep_file(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("archs = [\n")
    with pytest.raises(UsageError, match="not readable TOML"):
        read_sweep_file(bad)


def test_differences_names_fields():
    a = SweepConfig(archs=("vgg11",), name="a")
    assert differences(a, SweepConfig(archs=("vgg11",), name="b")) == []
    assert differences(a, SweepConfig(archs=("vgg13",), seeds=2)) == ["archs", "seeds"]


def test_missing_cifar_stops_a_run_before_its_folder(tmp_path, monkeypatch, capsys):
    import urllib.error
    import urllib.request

    from bench.__main__ import main

    def offline(url, **kwargs):
        raise urllib.error.URLError(OSError(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    argv = ["run", "--archs", "16,M,32,M", "--input-size", "32", "--head", "gap", "--metrics", "accuracy",
            "--dataset", "cifar10", "--data-dir", str(tmp_path / "empty"), "--epochs", "1", "--device", "cpu",
            "--out", str(tmp_path / "runs")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot download cifar10" in err and "Name or service not known" in err
    assert not (tmp_path / "runs").exists()  # no run folder full of error rows


def test_check_trials_makes_cifar_ready_once(tmp_path):
    import tarfile

    from test_data import write_cifar10

    from vggablate.run.sweep import check_trials, resolve_archs

    write_cifar10(tmp_path / "src")
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    cfg = SweepConfig(archs=("vgg11",), metrics=("accuracy",), dataset="cifar10", data_dir=str(tmp_path))
    check_trials(cfg, resolve_archs(cfg))
    assert (tmp_path / "cifar-10-batches-py" / "test_batch").is_file()  # extracted up front, not per trial
    counts_only = SweepConfig(archs=("vgg11",), metrics=("params",), dataset="cifar10", data_dir=str(tmp_path / "x"))
    check_trials(counts_only, resolve_archs(counts_only))  # no accuracy trial: no data set needed


def test_sweep_recipe_narrows_wide_nets_unless_widths_are_given():
    from vggablate.run.sweep import train_config

    default = train_config(SweepConfig(archs=("vgg11",), dataset="digits"))
    assert (default.width, default.narrow_from) == (0.125, 256)
    grid = train_config(SweepConfig(archs=("vgg11",), dataset="digits", widths=(0.25, 0.5)))
    assert (grid.width, grid.narrow_from) == (None, None)  # the widths on the specs are trained as given


def test_foreign_trials_are_counted_in_good_english():
    from vggablate.run.sweep import check_resume

    with pytest.raises(UsageError, match="holds 1 trial not in its own sweep"):
        check_resume(SweepConfig(archs=("vgg11",)), None, [{"trial_id": "0123"}], [])


def test_check_trials_respects_the_sweeps_no_download(tmp_path, monkeypatch):
    import urllib.request

    from vggablate.run.sweep import check_trials, plan_trials, resolve_archs

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("--no-download must not fetch"))
    cfg = SweepConfig(archs=("vgg11",), metrics=("accuracy",), dataset="cifar10", data_dir=str(tmp_path),
                      download=False)  # fmt: skip
    with pytest.raises(UsageError, match="drop --no-download"):
        check_trials(cfg, resolve_archs(cfg))
    # The trials carry the setting too, should the data set vanish between the check and a trial.
    assert [t.download for t in plan_trials(cfg, resolve_archs(cfg))] == [False]
