"""A Trial: one arch at one setting, its id and its checks (docs/design.md, "Rows"). Never imports torch.

Planning a sweep, resuming it and reading its journal need a trial's settings and id, not the code
that runs it (vggablate.run.execute, which imports torch and the measurement stack).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, fields, replace
from types import SimpleNamespace

from vggablate.arch.spec import ArchSpec, validate
from vggablate.checks.choices import check_choice
from vggablate.data.catalog import check_dataset
from vggablate.errors import UsageError
from vggablate.run.device import resolve_device
from vggablate.schema import DEVICES, KINDS, MODES, PRECISIONS, identity_columns, run_columns
from vggablate.training.recipe import TrainConfig, default_train_config, effective_config, prepare_spec

# Set to "1" by a driver on a terminal: an accuracy trial's worker then shows its own progress bar.
PROGRESS_ENV = "VGGABLATE_TRIAL_PROGRESS"
# Spec fields that are not settings: renaming a description must not change a trial's id.
_SPEC_NOT_SETTINGS = ("name", "cfg", "description", "tags")
# Trial fields that say where or how, not what is measured: they leave the trial_id (and resume) alone.
_NOT_SETTINGS = ("data_dir", "download", "planned_as")
# TrainConfig fields added after trial ids were first made, with their defaults (see trial_settings).
_LATER_RECIPE_FIELDS = {"bn_twin": False, "curve_test_images": None, "evals_per_epoch": 1}


@dataclass(frozen=True)
class Trial:
    """One measurement of one arch at one setting; every field shapes the figures and the trial_id."""

    spec: ArchSpec
    kind: str = "counts"  # counts | latency | memory | accuracy
    input_size: int = 224
    device: str = "cpu"  # cpu | cuda
    precision: str = "fp32"  # fp32 | tf32 | bf16 | fp16
    channels_last: bool = False
    compile: bool = False
    cudnn_benchmark: bool = False
    mode: str = "infer"  # infer | train
    batch_size: int = 1
    seed: int = 0
    dataset: str = "synthetic"  # counts, latency and memory run on random inputs
    budget_s: float = 2.0  # latency: sampling time budget
    target_rel_ci: float = 0.01  # latency: stop once the median's 95% CI is within +-1%
    threads: int | None = None  # CPU intra-op threads; None: torch's default
    train: TrainConfig | None = None  # accuracy: the training recipe
    data_dir: str | None = None  # accuracy: where the data set is cached; where, not what: not in trial_id
    download: bool = True  # accuracy: fetch a missing data set (False: fail); how, not what: not in trial_id
    # accuracy: the trial as planned, before fit_trial (vggablate.training.recipe) fitted it to its data
    # and device; trial_id hashes that one (see trial_settings). None: not fitted.
    planned_as: Trial | None = None


def trial_settings(trial: Trial) -> dict:
    """Return every setting of a trial as a flat JSON-able dict (what trial_id hashes).

    A fitted accuracy trial is hashed as planned (``planned_as``): its fitted columns (classes,
    channels, head, width, input size, batch size, precision, layout, the data set's canonical name)
    follow from the planned settings and the device's fast paths. Hashing them instead would change
    every accuracy trial id made before fitting moved to planning (old folders would stop resuming),
    and would make an id depend on the CPU planning it (bf16 and channels_last are decided from it).
    """
    if trial.planned_as is not None:
        return trial_settings(trial.planned_as)
    spec = {f.name: getattr(trial.spec, f.name) for f in fields(ArchSpec) if f.name not in _SPEC_NOT_SETTINGS}
    own = {f.name: getattr(trial, f.name) for f in fields(Trial) if f.name not in ("spec", "train", *_NOT_SETTINGS)}
    train = dataclasses.asdict(trial.train) if dataclasses.is_dataclass(trial.train) else trial.train
    if isinstance(train, dict):
        # Recipe fields added after ids were first made are hashed only away from their default, so
        # trial ids (and resume) of the recipes that existed before stay as they were.
        train = {k: v for k, v in train.items() if not (k in _LATER_RECIPE_FIELDS and v == _LATER_RECIPE_FIELDS[k])}
    if isinstance(train, dict) and train.get("schedule") == "linear":
        # Hashed under its old name "onecycle": trial ids made before the rename stay valid, so run
        # folders journaled then still resume.
        train = {**train, "schedule": "onecycle"}
    return {"arch": trial.spec.name, "cfg": trial.spec.cfg_str, **spec, **own, "train": train}


def trial_id(trial: Trial) -> str:
    """Return a short hash of the trial's settings, the same in every process and run."""
    text = json.dumps(trial_settings(trial), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def identity(
    trial: Trial, timestamp: str, duration_s: float, error: str | None = None, error_type: str | None = None
) -> dict:
    """Return the identity and settings columns of a trial's rows (schema.identity_columns)."""
    run = run_columns(trial)
    return identity_columns(trial_id(trial), trial.kind, trial.spec, run, duration_s, timestamp, error, error_type)


def non_defaults(setting: Mapping[str, object], keys: Iterable[str]) -> list[str]:
    """Name, for a label, the keys whose value is not the default: 'name' for a flag that is on, else 'name=value'."""
    defaults = {f.name: f.default for f in (*fields(ArchSpec), *fields(Trial)) if f.default is not MISSING}
    out = []
    for key in keys:
        value = setting.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == defaults.get(key, value):
            continue  # unknown, or the default: a label names what departs from the default trial
        out.append(key if str(value) == "True" else f"{key}={value}")  # numpy bools too
    return out


def check_trial(trial: Trial) -> Trial:
    """Raise UsageError for a setting that cannot run here; return the trial unchanged."""
    check_choice("trial kind", trial.kind, KINDS)
    check_choice("device", trial.device, DEVICES)  # resolved: a trial's id must not depend on where it runs
    resolve_device(trial.device)  # refuses cuda where torch sees none
    check_choice("precision", trial.precision, PRECISIONS)
    if trial.precision == "tf32" and trial.device != "cuda":
        raise UsageError("tf32 is a CUDA tensor-core precision; on cpu use fp32 or bf16")
    check_choice("mode", trial.mode, MODES)
    if trial.batch_size < 1:
        raise UsageError(f"batch size must be >= 1, got {trial.batch_size}")
    validate(trial.spec, trial.input_size)
    return trial


def fit_trial(trial: Trial) -> Trial:
    """Return an accuracy trial fitted to its data and device: the settings its row shows, as it will train.

    The spec gets the data set's classes and channels and the recipe's head and width; the trial the
    data's input size and canonical name, the recipe's batch size, and the precision and layout the
    device trains with (effective_config). ``planned_as`` keeps the trial as planned: trial_id hashes
    that one (vggablate.run.trial). Other kinds, and a trial already fitted, come back unchanged.
    """
    if trial.kind != "accuracy" or trial.planned_as is not None:
        return trial
    entry = check_dataset(trial.dataset)
    facts = entry.facts(trial.dataset)
    recipe = trial.train if trial.train is not None else default_train_config(trial.dataset, trial.device)
    shape = SimpleNamespace(num_classes=facts.classes, in_channels=facts.channels, input_size=facts.input_size)
    paths = effective_config(recipe, trial.device)
    cuda = trial.device == "cuda"  # the trainer turns cuDNN's autotuning on for CUDA
    return replace(trial, spec=prepare_spec(trial.spec, shape, recipe), input_size=facts.input_size,
                   precision="bf16" if paths.bf16 else "fp32", channels_last=paths.channels_last, compile=False,
                   cudnn_benchmark=cuda, mode="train", batch_size=recipe.batch_size,
                   dataset=entry.parse(trial.dataset), train=recipe, planned_as=trial)  # fmt: skip
