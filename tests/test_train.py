import math
import re
from dataclasses import fields, replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from vggablate import resolve_spec
from vggablate.arch.registry import list_archs
from vggablate.data import load_dataset
from vggablate.errors import UsageError
from vggablate.run.execute import run_trial
from vggablate.run.trial import Trial
from vggablate.training.recipe import (
    TrainConfig,
    default_train_config,
    departures,
    effective_config,
    prepare_spec,
    widest_conv,
)
from vggablate.training.trainer import TrainResult, lr_factor, train_and_evaluate

TINY = TrainConfig(steps=6, batch_size=16, lr=0.02, warmup_epochs=0, width=1 / 16, eval_batch_size=128)


@pytest.fixture(scope="module")
def synthetic():
    return load_dataset("synthetic", num_classes=10)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_result_fields_are_the_accuracy_columns():
    text = (Path(__file__).parents[1] / "docs" / "design.md").read_text()
    section = text.split("`accuracy` (one row per arch and seed):")[1].split("\n\n")[0]
    # params, macs and flops of the trained network come from run_row, the rest from TrainResult
    # (run_row also adds narrow_from, the recipe's narrowing threshold, and bn_twin, whether it added BatchNorm).
    sizes = ("params", "macs", "flops")
    names = re.findall(r"`(\w+)`", section)
    assert [f.name for f in fields(TrainResult)] == [n for n in names if n not in (*sizes, "narrow_from", "bn_twin")]
    assert set(sizes) <= set(names)


def test_lr_schedule_warms_up_and_decays_to_zero():
    assert lr_factor(0, 100, 10, "linear") == pytest.approx(0.1)
    assert lr_factor(9, 100, 10, "linear") == pytest.approx(1.0)
    assert lr_factor(10, 100, 10, "cosine") == pytest.approx(1.0)
    assert lr_factor(99, 100, 10, "linear") < 0.02 and lr_factor(99, 100, 10, "cosine") < 0.001
    assert lr_factor(55, 100, 10, "cosine") == pytest.approx(0.5)
    # "onecycle", the linear schedule's old name, still reads (it was never torch's OneCycleLR).
    assert lr_factor(50, 100, 10, "onecycle") == lr_factor(50, 100, 10, "linear")


def test_schedule_rename_keeps_accuracy_trial_ids():
    from vggablate import get_arch
    from vggablate.run.trial import Trial, trial_id

    recipe = default_train_config("digits", "cpu")
    trial = Trial(get_arch("vgg11"), kind="accuracy", dataset="digits", train=recipe, mode="train")
    # The id this trial had before "onecycle" became "linear": old run folders still resume.
    assert trial_id(trial) == "b17a7169474774e4"


def test_defaults_per_dataset():
    cpu = default_train_config("digits", "cpu")
    assert cpu.width == 0.125 and cpu.epochs > 0 and cpu.schedule == "linear"
    assert default_train_config("digits", "cuda").width is None
    assert default_train_config("cifar10", "cuda").epochs >= 10
    assert default_train_config("imagefolder:/x", "cpu").schedule == "cosine"
    with pytest.raises(UsageError, match="unknown dataset"):
        default_train_config("mnist", "cpu")


def test_small_inputs_get_gap_head_and_departures_are_listed(digits):
    spec = prepare_spec(resolve_spec("vgg11"), digits, default_train_config("digits", "cpu"))
    assert (spec.head, spec.width, spec.num_classes, spec.in_channels) == ("gap", 0.125, 10, 3)
    notes = departures(spec, digits.input_size)
    assert notes == [
        "head gap (standard imagenet)",
        "width 0.125 (standard 1)",
        "input 32x32 (standard 224x224)",
        "10 classes (standard 1000)",
    ]
    assert departures(resolve_spec("vgg11"), 224) == []
    assert departures(resolve_spec("vgg11", num_classes=1), 224) == ["1 class (standard 1000)"]
    kept = prepare_spec(resolve_spec("vgg11", width=0.5), digits, replace(TrainConfig(), head="imagenet"))
    assert (kept.head, kept.width) == ("imagenet", 0.5)


SMALL_DATA = SimpleNamespace(input_size=32, num_classes=10, in_channels=3)  # what prepare_spec reads
CPU_RECIPES = ["clutter", "digits", "cifar10", "cifar100", "synthetic"]


@pytest.mark.parametrize("arch", list_archs())
@pytest.mark.parametrize("dataset", CPU_RECIPES)
def test_cpu_recipes_narrow_every_registered_arch(arch, dataset):
    # The paper-claim comparisons need every registered arch (the _cm twins included) at the recipe's width.
    recipe = default_train_config(dataset, "cpu")
    assert prepare_spec(resolve_spec(arch), SMALL_DATA, recipe).width == recipe.width


@pytest.mark.parametrize("dataset", CPU_RECIPES)
def test_cpu_recipes_train_narrow_cfgs_as_written(dataset):
    recipe = default_train_config(dataset, "cpu")
    assert recipe.narrow_from == 256 and recipe.width < 1
    assert prepare_spec(resolve_spec("16,M,32,M"), SMALL_DATA, recipe).width == 1.0
    assert prepare_spec(resolve_spec("64,M,255,M"), SMALL_DATA, recipe).width == 1.0
    assert prepare_spec(resolve_spec("64,M,256k5,M"), SMALL_DATA, recipe).width == recipe.width
    # Judged at the spec's own width: vgg11 at width 0.25 is a 128-channel net, trained as it is.
    assert prepare_spec(resolve_spec("vgg11", width=0.25), SMALL_DATA, recipe).width == 0.25
    # An explicit width (no threshold) applies to every net, however narrow.
    explicit = replace(recipe, width=0.5, narrow_from=None)
    assert prepare_spec(resolve_spec("16,M,32,M"), SMALL_DATA, explicit).width == 0.5


def test_widest_conv_and_the_recipes_without_narrowing():
    assert widest_conv(resolve_spec("vgg13_k5_cm")) == 564 and widest_conv(resolve_spec("16,M,32k5,M")) == 32
    for dataset, device in [("digits", "cuda"), ("cifar10", "cuda"), ("imagefolder:/x", "cpu")]:
        recipe = default_train_config(dataset, device)
        assert (recipe.width, recipe.narrow_from) == (None, None)
        assert prepare_spec(resolve_spec("vgg11"), SMALL_DATA, recipe).width == 1.0


def test_effective_config_follows_the_cpus_kernels(monkeypatch):
    from vggablate.training import fastpaths

    cfg = default_train_config("digits", "cpu")
    assert (cfg.channels_last, cfg.bf16) == (True, True)  # as recorded in the trial id
    assert effective_config(cfg, "cuda") == cfg
    for onednn, native_bf16 in ((True, False), (True, True), (False, False)):
        monkeypatch.setattr(fastpaths, "cpu_capabilities", lambda o=onednn, b=native_bf16: (o, b))
        here = effective_config(cfg, "cpu")
        assert (here.channels_last, here.bf16) == (onednn, native_bf16)
        asked_off = effective_config(replace(cfg, channels_last=False, bf16=False), "cpu")
        assert (asked_off.channels_last, asked_off.bf16) == (False, False)  # never on where the recipe says off


def test_rows_record_the_layout_and_precision_that_ran(synthetic):
    from vggablate.training.fastpaths import cpu_capabilities

    (row,) = run_trial(Trial(resolve_spec("vgg11"), kind="accuracy", dataset="synthetic", train=replace(TINY, steps=1)))
    onednn, native_bf16 = cpu_capabilities()
    assert (row["channels_last"], row["precision"]) == (onednn, "bf16" if native_bf16 else "fp32")


def test_train_reports_every_field(synthetic):
    spec = prepare_spec(resolve_spec("vgg11"), synthetic, TINY)
    r = train_and_evaluate(spec, synthetic, replace(TINY, target_top1=0.0), "cpu", seed=0, progress=False)
    assert r.steps == 6 and r.epochs == pytest.approx(6 / (2048 // 16)) and r.train_batch_size == 16
    assert 0 <= r.top1 <= 100 and r.top5 is not None and r.top5 >= r.top1
    assert math.isfinite(r.train_loss) and r.train_time_s > 0 and r.train_ips > 0
    assert r.time_to_target_s is not None and r.target_top1 == 0.0
    assert len(r.curve) == 1 and set(r.curve[0]) == {"epoch", "train_loss", "test_top1"}


def test_curve_on_a_strided_subset_and_top1_on_the_whole_split(synthetic):
    from vggablate.training.trainer import curve_loader, make_loaders

    cfg = replace(TINY, curve_test_images=100)
    _, test = make_loaders(synthetic, cfg, "cpu", 0)
    labels = [y for _, ys in curve_loader(synthetic, cfg, "cpu", test) for y in ys.tolist()]
    assert labels == synthetic.test_y[::6].tolist()  # 512 images, every 6th: 86, spread over the split
    assert curve_loader(synthetic, TINY, "cpu", test) is test
    spec = prepare_spec(resolve_spec("vgg11"), synthetic, cfg)
    sub = train_and_evaluate(spec, synthetic, cfg, "cpu", seed=0, progress=False)
    full = train_and_evaluate(spec, synthetic, TINY, "cpu", seed=0, progress=False)
    assert sub.top1 == full.top1  # the final score always uses every test image
    hits = sub.curve[0]["test_top1"] * 86 / 100  # the curve's top-1 is a count out of the 86 images
    assert round(hits) == pytest.approx(hits)


def test_more_curve_points_leave_training_unchanged(synthetic):
    # 2,048 images at batch 64: 32 steps per epoch; 1.5 epochs = 48 steps, scored every 8 steps.
    cfg = replace(TINY, steps=None, epochs=1.5, batch_size=64, curve_test_images=64)
    spec = prepare_spec(resolve_spec("vgg11_bn"), synthetic, cfg)
    one = train_and_evaluate(spec, synthetic, cfg, "cpu", seed=3, progress=False)
    four = train_and_evaluate(spec, synthetic, replace(cfg, evals_per_epoch=4), "cpu", seed=3, progress=False)
    assert [p["epoch"] for p in one.curve] == [1.0, 1.5]
    assert [p["epoch"] for p in four.curve] == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    assert four.top1 == one.top1  # scoring the curve draws no random numbers: the same batches, the same net
    assert four.curve[3]["test_top1"] == one.curve[0]["test_top1"]
    assert four.top1_climb is not None


def test_same_seed_same_accuracy_on_cpu(digits):
    cfg = replace(TINY, steps=3, batch_size=64)  # a few shuffled batches: the seed sets init and order
    spec = prepare_spec(resolve_spec("vgg11_bn"), digits, cfg)
    a = train_and_evaluate(spec, digits, cfg, "cpu", seed=7, progress=False)
    b = train_and_evaluate(spec, digits, cfg, "cpu", seed=7, progress=False)
    c = train_and_evaluate(spec, digits, cfg, "cpu", seed=8, progress=False)
    assert (a.top1, a.train_loss, a.curve) == (b.top1, b.train_loss, b.curve)
    assert (a.train_loss, a.curve) != (c.train_loss, c.curve)


def test_short_digits_run_learns(digits):
    # BatchNorm learns within two epochs (89.7% here); the default vgg11 needs more steps.
    cfg = replace(default_train_config("digits", "cpu"), epochs=2, batch_size=64, lr=0.05)
    (row,) = run_trial(Trial(resolve_spec("vgg11_bn"), kind="accuracy", dataset="digits", train=cfg))
    assert row["top1"] > 60 and row["dataset"] == "digits" and row["epochs"] == pytest.approx(2, rel=0.05)
    assert (row["head"], row["width"], row["input_size"], row["kind"]) == ("gap", 0.125, 32, "accuracy")
    assert row["narrow_from"] == 256  # the recipe's threshold is recorded like its other fields
    assert len(row["curve"]) == 2 and row["curve"][-1]["test_top1"] == row["top1"]


@pytest.mark.gpu
def test_cuda_trains_from_the_device_in_bf16_channels_last(digits):
    cfg = replace(default_train_config("digits", "cuda"), epochs=3, batch_size=64, lr=0.05, width=0.25)
    assert cfg.bf16 and cfg.channels_last
    (row,) = run_trial(Trial(resolve_spec("vgg11_bn"), kind="accuracy", dataset="digits", train=cfg, device="cuda"))
    assert (row["device"], row["precision"], row["channels_last"]) == ("cuda", "bf16", True)
    assert row["top1"] > 60 and row["train_ips"] > 0


def test_wrong_classes_and_schedule_are_usage_errors(synthetic):
    with pytest.raises(UsageError, match="classes"):
        train_and_evaluate(resolve_spec("vgg11", width=1 / 16), synthetic, TINY, "cpu", 0, False)
    spec = prepare_spec(resolve_spec("vgg11"), synthetic, TINY)
    with pytest.raises(UsageError, match="schedule"):
        train_and_evaluate(spec, synthetic, replace(TINY, schedule="step"), "cpu", 0, False)


def test_trains_on_an_image_folder(tmp_path):
    # The streamed path (DataLoader with workers, torchvision's resize + crop): two steps at 224px.
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for cls in ("cat", "dog"):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(4):
                pixels = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / split / cls / f"{i}.png")
    data = load_dataset(f"imagefolder:{tmp_path}", workers=0)
    cfg = TrainConfig(steps=2, batch_size=4, warmup_epochs=0, width=0.0625, eval_batch_size=4)
    spec = prepare_spec(resolve_spec("vgg11"), data, cfg)
    assert (spec.num_classes, spec.head, data.input_size) == (2, "imagenet", 224)
    result = train_and_evaluate(spec, data, cfg, "cpu", seed=0, progress=False)
    assert result.steps == 2 and 0 <= result.top1 <= 100 and len(result.curve) == 1
