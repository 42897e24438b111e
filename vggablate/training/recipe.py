"""Training recipes: TrainConfig, the default recipe per data set and device, fitting to the data. No torch.

fit_trial fits an accuracy trial's spec and settings to its data set and device when it is planned.

The recipe is part of a trial's identity (trial_id hashes it), so planning a sweep, resuming it and
reading its rows need it without the trainer (vggablate.training.trainer) or torch. Which fast paths a recipe
runs with on a device (effective_config) is decided from the hardware at run time
(vggablate.training.fastpaths), whose torch calls happen only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from vggablate.arch.spec import ArchSpec, validate
from vggablate.data.catalog import check_dataset
from vggablate.training.fastpaths import fast_paths
from vggablate.words import plural

# The CPU recipes' narrowing threshold: every registered arch's widest conv has 496-564 channels.
NARROW_FROM = 256
CLUTTER_EPOCHS = 8.0  # the CPU clutter recipe: vgg16 reached 37% at 6 epochs, 67-73% at 8 (docs/benchmarks.md)
SMALL_INPUT = 64  # below 64 px VGG's five pools leave a 1x1 map: the imagenet head would copy it 49 times
STANDARD_INPUT = 224


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe; every field is recorded in the rows."""

    epochs: float = 10.0  # budget in passes over the train split (ignored when steps is set)
    steps: int | None = None  # budget in optimizer steps, overriding epochs
    batch_size: int = 128
    lr: float = 0.05  # peak learning rate, reached at the end of the warm-up
    momentum: float = 0.9  # Nesterov momentum
    weight_decay: float = 5e-4  # on every parameter
    label_smoothing: float = 0.1
    schedule: str = "linear"  # linear: linear warm-up, then linear decay to 0; cosine: warm-up, cosine to 0
    warmup_epochs: float = 1.0
    target_top1: float | None = None  # report the training time to reach this test top-1 (percent)
    width: float | None = None  # channel multiplier to train at; None keeps the spec's own
    # Apply width only to nets whose widest conv has at least this many channels (None: to every net).
    # The CPU recipes narrow ImageNet-sized VGGs (widest conv 496-564) to train in seconds; a cfg
    # already narrower than that is meant as written.
    narrow_from: int | None = None
    head: str | None = None  # None: gap on inputs below SMALL_INPUT, else the spec's own
    # Train a plain (no-BatchNorm) net as its _bn twin, and say so in the row (bn_twin). The CPU
    # clutter recipe does: plain 11-19 layer VGGs sit near chance for most of a one-minute budget
    # (the paper itself trained its deep nets by initialising them from the shallow one).
    bn_twin: bool = False
    channels_last: bool = True  # CUDA only: tensor cores want NHWC
    bf16: bool = True  # CUDA only: autocast matmuls and convs to bfloat16
    eval_batch_size: int = 500
    # Score the per-epoch curve on an evenly spaced subset of at most this many test images (in-memory
    # data only; None: the whole split). The final top-1 always uses the whole split. The clutter
    # recipe's 5,760 test images cost 45% of a vgg13 epoch to score, 1,440 of them 12%.
    curve_test_images: int | None = None
    # Score the curve this many times per epoch (1: at each epoch's end). Short budgets need more
    # points to tell whether a net is still improving (vggablate.training.convergence reads the last quarter).
    evals_per_epoch: int = 1


def default_train_config(dataset: str, device: str) -> TrainConfig:
    """Return the recipe a user gets without tuning, per data set (vggablate.data.catalog) and device."""
    entry = check_dataset(dataset)  # an unknown name or bad parameters: one line before any work
    return RECIPES.get(entry.name, _plain_recipe)(device.startswith("cuda"))


def _digits_recipe(cuda: bool) -> TrainConfig:
    # Width 1/8 so a CPU run takes seconds; batch 32 and lr 0.02 because the deep nets without
    # BatchNorm sit at chance for epochs with fewer, larger steps (the runs: docs/benchmarks.md,
    # "CPU, digits, default recipe").
    return TrainConfig(epochs=15, batch_size=32, lr=0.02, warmup_epochs=1, **_cpu_narrowing(cuda, 0.125))


def _clutter_recipe(cuda: bool) -> TrainConfig:
    # CPU, width 1/8, plain nets as their _bn twins: CLUTTER_RECIPE_NOTE and docs/benchmarks.md.
    if cuda:
        return TrainConfig(epochs=30, batch_size=128, lr=0.05, warmup_epochs=2)
    # Batch 64, lr 0.1: the nets spend the first epochs finding the digit in the clutter, and more,
    # smaller steps get them there sooner (batch 128 / lr 0.1: 43%); over 4 seeds each lr 0.1 beat
    # 0.05, 0.025 and 0.2 for vgg13 and vgg13_k5 (docs/benchmarks.md, "Recipe pilot").
    return TrainConfig(epochs=CLUTTER_EPOCHS, batch_size=64, lr=0.1, warmup_epochs=1, bn_twin=True,
                       curve_test_images=1440, **_cpu_narrowing(cuda, 0.125))  # fmt: skip


def _fashion_recipe(cuda: bool) -> TrainConfig:
    # CPU: 1 epoch (the default run's budget: vgg11 85% and vgg16 86% in 22 s and 34 s of training on
    # 2 cores), lr 0.1 (a 1-epoch pilot: vgg11 83.9 / 84.6 / 85.6% at lr 0.05 / 0.1 / 0.2, vgg16 84.0 /
    # 85.8% at 0.05 / 0.1; 0.2 dipped to 56% a quarter in), batch 128, width 1/8, the gap head (as every
    # 32 px input gets), plain nets as their _bn twins; the curve scored 4 times an epoch on 2,000 of
    # the 10,000 test images, so a short run can still say whether it was improving (docs/benchmarks.md,
    # "Issue 19").
    if cuda:
        return TrainConfig(epochs=30, batch_size=128, lr=0.05, warmup_epochs=2)
    return TrainConfig(epochs=1, batch_size=128, lr=0.1, warmup_epochs=1, bn_twin=True, curve_test_images=2000,
                       evals_per_epoch=4, **_cpu_narrowing(cuda, 0.125))  # fmt: skip


def _cifar_recipe(cuda: bool) -> TrainConfig:
    # CUDA: the target is vgg11_bn >= 90% on CIFAR-10; CPU gets a narrow net and a few epochs.
    if cuda:
        return TrainConfig(epochs=30, batch_size=256, lr=0.1, warmup_epochs=2)
    return TrainConfig(epochs=4, batch_size=128, lr=0.05, warmup_epochs=1, **_cpu_narrowing(cuda, 0.25))


def _synthetic_recipe(cuda: bool) -> TrainConfig:
    return TrainConfig(epochs=1, batch_size=64, lr=0.01, warmup_epochs=0, **_cpu_narrowing(cuda, 0.25))


def _folder_recipe(cuda: bool) -> TrainConfig:
    return TrainConfig(epochs=16, batch_size=64, lr=0.02, schedule="cosine", warmup_epochs=1)


def _plain_recipe(cuda: bool) -> TrainConfig:
    # A catalog entry without a tuned recipe trains with the defaults, narrowed on CPU.
    return TrainConfig(**_cpu_narrowing(cuda, 0.25))


# The recipe of each catalog entry (by its name); an entry without one gets _plain_recipe.
RECIPES = {
    "digits": _digits_recipe,
    "clutter": _clutter_recipe,
    "fashion-mnist": _fashion_recipe,
    "cifar10": _cifar_recipe,
    "cifar100": _cifar_recipe,
    "synthetic": _synthetic_recipe,
    "imagefolder": _folder_recipe,
}


def _cpu_narrowing(cuda: bool, width: float) -> dict[str, Any]:
    # CUDA trains every net at its own width; the CPU recipes narrow only the wide ones.
    return {} if cuda else {"width": width, "narrow_from": NARROW_FROM}


def effective_config(cfg: TrainConfig, device: str) -> TrainConfig:
    """Return the recipe as it runs on the device: channels_last and bf16 where its hardware has them."""
    paths = fast_paths(cfg.channels_last, cfg.bf16, device)
    return replace(cfg, channels_last=paths.channels_last, bf16=paths.bf16)


def prepare_spec(spec: ArchSpec, data: Any, cfg: TrainConfig) -> ArchSpec:
    """Fit a spec to the data (classes, channels) and the recipe (width, small-input head)."""
    head = cfg.head or ("gap" if data.input_size < SMALL_INPUT else spec.head)
    width = cfg.width if narrows(spec, cfg) else spec.width
    bn = spec.batch_norm or cfg.bn_twin
    fitted = replace(spec, num_classes=data.num_classes, in_channels=data.in_channels, head=head, width=width,
                     batch_norm=bn)  # fmt: skip
    return validate(fitted, data.input_size)


def narrows(spec: ArchSpec, cfg: TrainConfig) -> bool:
    """Say whether the recipe's width applies to the spec (always, unless it is narrower than narrow_from)."""
    if cfg.width is None:
        return False
    return cfg.narrow_from is None or widest_conv(spec) >= cfg.narrow_from


def widest_conv(spec: ArchSpec) -> int:
    """Return the most output channels of any conv of the spec at its own width."""
    return max((layer.channels for layer in spec.channels() if layer.kind == "conv"), default=0)


def departures(spec: ArchSpec, input_size: int) -> list[str]:
    """List how a trained spec differs from its arch's standard (torchvision) form."""
    out = []
    if spec.head != "imagenet":
        out.append(f"head {spec.head} (standard imagenet)")
    if spec.width != 1.0:
        out.append(f"width {spec.width:g} (standard 1)")
    if input_size != STANDARD_INPUT:
        out.append(f"input {input_size}x{input_size} (standard {STANDARD_INPUT}x{STANDARD_INPUT})")
    if spec.num_classes != 1000:
        out.append(f"{plural(spec.num_classes, 'class', 'classes')} (standard 1000)")
    return out
