"""``bench claims``: the claims' sweep (budgets, expected duration) and its outputs in a run folder.

The accuracy trials run through the same sweep machinery as ``bench run`` (journal, resume,
error rows); the cost and static claims are exact arithmetic on the analytic tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vggablate.arch.analysis import analyse
from vggablate.arch.registry import get_arch
from vggablate.checks.outputs import JOURNAL
from vggablate.claims.design import nets_to_train
from vggablate.claims.paper import (
    ACCURACY_CLAIM_IDS,
    ACCURACY_CLAIMS,
    LARGE_PAIRS,
    accuracy_claims,
    claim_archs,
    large_kernel_costs,
    per_layer_argument,
    static_checks,
)
from vggablate.data.catalog import get_dataset
from vggablate.reference import load_reference
from vggablate.report.build import write_plots
from vggablate.report.claims import claims_markdown, claims_plots, claims_section
from vggablate.report.html import Section
from vggablate.run.records import atomic_write_text, latest_attempts, read_rows
from vggablate.run.sweepconfig import SweepConfig
from vggablate.training.convergence import row_climb
from vggablate.training.recipe import TrainConfig, effective_config
from vggablate.words import plural


@dataclass(frozen=True)
class Budget:
    """A named training budget for the accuracy claims."""

    name: str
    device: str
    dataset: str
    epochs: float | None  # None: the trainer's default for the data set and device
    seeds: int
    about: str
    claims: tuple[str, ...] = ACCURACY_CLAIM_IDS  # the accuracy claims it runs unless --claims names others


# The cpu budget: 16 epochs, where the seed-to-seed spread of top-1 falls to 0.5-1 point (3-5 at
# 8), 6 seeds, and only the two claims it was designed for (depth, 3x3 vs 5x5): 36-42 min on 2 cores,
# where the per-seed pairs decide both (docs/benchmarks.md, "Issue 12, test split and pairing").
CPU_EPOCHS, CPU_SEEDS, CPU_CLAIMS = 16.0, 6, ("shallow_5x5", "depth")
# 3 epochs x 4 seeds: 6 nets take about 190 s an epoch here (a 2-epoch pilot, seeds 100-101:
# vgg11 22 s, vgg13 31 s, vgg16 36 s), so 12 seed-epochs fill 40 of the 45 minutes; the pilot's
# paired spread (sd 0.3-0.6 points) asks for 5-15 pairs to resolve a 0.5-point effect, more than fit.
FASHION_EPOCHS, FASHION_SEEDS, FASHION_ABOUT = 3.0, 4, "CPU, Fashion-MNIST, about 43 min"
# The budgets `bench claims` runs without --budget on a CPU, in order of preference: the first
# whose data set is here without a download. Fashion-MNIST first: neither budget's ranking is stable
# yet (Kendall's tau 2 vs 3 epochs +0.33 on Fashion-MNIST, 8 vs 16 epochs +0.20 on clutter) and both
# label their verdicts unconverged, so the measurements do not separate them; Fashion-MNIST's figures
# can be set beside published ones (docs/benchmarks.md, "Issue 19").
CPU_DEFAULT_BUDGETS = ("fashion", "cpu")
BUDGETS = {
    # CPU, digits: the trainer's short recipe (width 0.125, 15 epochs), 3 seeds: all claims < 15 min on 2 cores.
    "smoke": Budget("smoke", "cpu", "digits", None, 3, "CPU, digits, minutes"),
    # CPU, cluttered digits: the trainer's clutter recipe (width 0.125, plain nets as their _bn twins)
    # for 16 epochs x 6 seeds; 36-42 min on 2 cores.
    "cpu": Budget("cpu", "cpu", "clutter", CPU_EPOCHS, CPU_SEEDS, "CPU, cluttered digits, about 40 min", CPU_CLAIMS),
    # CPU, Fashion-MNIST (real data, published figures beside ours): the trainer's Fashion-MNIST
    # recipe for FASHION_EPOCHS x FASHION_SEEDS, designed from a pilot (docs/benchmarks.md, "Issue 19").
    "fashion": Budget(
        "fashion", "cpu", "fashion-mnist", FASHION_EPOCHS, FASHION_SEEDS, FASHION_ABOUT, CPU_CLAIMS
    ),  # fmt: skip
    # GPU, CIFAR-10 at full width: enough to separate the depths (the paper's central claim).
    "cifar": Budget("cifar", "cuda", "cifar10", 15, 3, "GPU, CIFAR-10, 15 epochs x 3 seeds"),
}


def default_budget(cuda: bool, data_dir: str | None = None) -> str:
    """Return the budget `bench claims` runs when none is named: cifar with a GPU, else the first CPU one here."""
    if cuda:
        return "cifar"
    here = [
        b for b in CPU_DEFAULT_BUDGETS[:-1] if _located(get_dataset(BUDGETS[b].dataset), BUDGETS[b].dataset, data_dir)
    ]
    return (here or [CPU_DEFAULT_BUDGETS[-1]])[0]


def _located(entry: object, name: str, data_dir: str | None) -> bool:
    return entry.locate(name, data_dir) is not None


def claims_config(budget: Budget, overrides: dict, selected: tuple[str, ...] | None = None) -> SweepConfig:
    """Return the sweep of the selected accuracy claims (default: the budget's): every arch they compare."""
    fields = {"archs": tuple(claim_archs(selected or budget.claims)), "metrics": ("accuracy",),
              "device": budget.device, "dataset": budget.dataset, "epochs": budget.epochs, "seeds": budget.seeds,
              "name": f"claims-{budget.name}"}  # fmt: skip
    fields.update({k: v for k, v in overrides.items() if v is not None})
    fields["archs"] = tuple(nets_to_train(fields["archs"], fields["dataset"], fields["device"]))
    return SweepConfig(**fields)


def budget_label(cfg: SweepConfig, recipe: TrainConfig | None) -> str:
    """Describe the budget the verdicts were reached under (recipe: None where the run has no accuracy trial)."""
    epochs = recipe.epochs if recipe is not None else cfg.epochs
    width = recipe.width if recipe is not None else None
    widths = ",".join(f"{w:g}" for w in cfg.widths) or (f"{width:g}" if width is not None else "as registered")
    runs = f"{plural(epochs, 'epoch')}, {plural(cfg.seeds, 'seed')} per arch"
    twins = ", plain nets trained as their _bn twins" if recipe is not None and recipe.bn_twin else ""
    return f"{cfg.dataset}, {runs}, width {widths}, {cfg.device}{twins}"


def expected_seconds(trials: list, per_step_s: float, steps_per_run: int, overhead_s: float = 5.0) -> float:
    """Estimate a sweep's duration from one timed step of vgg11, scaled per arch by its conv layers."""
    ref = analyse(get_arch("vgg11"), 32).conv_layers
    total = 0.0
    for t in trials:
        layers = analyse(t.spec, 32).conv_layers
        # At the budgets' narrow widths a step costs about the same per layer: scale by depth. A
        # plain net the recipe trains as its _bn twin costs what the twin does (47 min run, 32 estimated).
        bn = t.spec.batch_norm or (t.train is not None and t.train.bn_twin)
        total += overhead_s + per_step_s * steps_per_run * layers / ref * (1.3 if bn else 1.0)
    return total


def time_one_step(recipe: TrainConfig, dataset_size: int = 32) -> float:
    """Time vgg11's training step at the recipe's width and batch size, here, now (seconds)."""
    from vggablate.arch.factory import create_model  # torch: only when a claims run is about to train
    from vggablate.measure.latency import StepConfig, measure_latency

    model = create_model("vgg11", head="gap", num_classes=10, width=recipe.width or 1.0)
    paths = effective_config(recipe, "cpu")  # the layout and precision the trials will train with here
    # An estimate, not a measurement: one warm-up step and the median of three, whatever they cost.
    cfg = StepConfig(mode="train", batch_size=recipe.batch_size, input_size=dataset_size, warmup=1,
                     min_samples=3, max_samples=3, budget_s=0.0, channels_last=paths.channels_last,
                     precision="bf16" if paths.bf16 else "fp32")  # fmt: skip
    return measure_latency(model, cfg).median_s


def top1_by_arch(rows: list[dict]) -> dict[str, list[float]]:
    """Collect top-1 per seed per arch from the accuracy rows that succeeded (latest attempts)."""
    return {arch: list(by_seed.values()) for arch, by_seed in top1_by_seed(rows).items()}


def top1_by_seed(rows: list[dict]) -> dict[str, dict[int, float]]:
    """Collect top-1 by seed per arch from the accuracy rows that succeeded (latest attempts)."""
    return {arch: {s: float(r["top1"]) for s, r in by_seed.items()} for arch, by_seed in _finished(rows).items()}


def climb_by_seed(rows: list[dict]) -> dict[str, dict[int, float | None]]:
    """Collect each run's top-1 climb over the last quarter of its epochs, by seed per arch."""
    return {arch: {s: row_climb(r) for s, r in by_seed.items()} for arch, by_seed in _finished(rows).items()}


def _finished(rows: list[dict]) -> dict[str, dict[int, dict]]:
    out: dict[str, dict[int, dict]] = {}
    for row in latest_attempts(rows):
        if row.get("kind") == "accuracy" and not row.get("error") and row.get("top1") is not None:
            out.setdefault(row["arch"], {})[int(row["seed"])] = row
    return out


def cost_frame() -> pd.DataFrame:
    """Per-stage conv params and MACs at 224 of every arch in the large-kernel pairs."""
    names = list(dict.fromkeys(n for pair in LARGE_PAIRS for n in pair))
    rows = []
    for name in names:
        t = analyse(get_arch(name), 224)
        rows += [{"arch": name, "stage": i + 1, "params": p, "macs": m}
                 for i, (p, m) in enumerate(zip(t.stage_params, t.stage_macs))]  # fmt: skip
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Judged:
    """A run's accuracy claims judged once from its journal: what the reports, the terminal and --until-stable show."""

    claims: list  # the accuracy claim rows (claims.ClaimRow)
    comparisons: list  # every pairwise comparison (verdict.Judgement)
    by_seed: dict[str, dict[int, float]]  # top-1 per seed per arch
    advice: str  # the budget to try next where a comparison is unconverged; '' when none is
    rows: list[dict]  # the journal's rows, as read


def judge_run(run_dir: Path, label: str) -> Judged:
    """Judge the accuracy claims from a run's journal, reading it once."""
    journal = read_rows(run_dir / JOURNAL)
    by_seed = top1_by_seed(journal)
    classes = {r["num_classes"] for r in journal if r.get("kind") == "accuracy" and r.get("num_classes")}
    chance = 100.0 / min(classes) if classes else None
    acc_rows, comps = accuracy_claims(by_seed, label, chance, climb_by_seed(journal))
    return Judged(acc_rows, comps, by_seed, settle_advice(journal, comps), journal)


def settle_advice(journal: list[dict], comparisons: list) -> str:
    """Name the comparisons still climbing and the budget to try next (twice the epochs); '' when none climbs."""
    late = [c for c in comparisons if c.unconverged]
    if not late:
        return ""
    acc = [r for r in latest_attempts(journal) if r.get("kind") == "accuracy"]
    epochs = max((float(r["epochs"]) for r in acc if isinstance(r.get("epochs"), (int, float))), default=0.0)
    minutes = sum(float(r.get("train_time_s") or 0) for r in acc if not r.get("error")) / 60
    return (f"Unconverged at {epochs:g} epochs: {', '.join(f'{c.a} vs {c.b}' for c in late)} still climb by more "
            f"than the CI half-width of their difference. The budget to try next is {2 * epochs:g} epochs (about "
            f"{2 * minutes:.0f} min of training here); --until-stable doubles the epochs until the ranking holds "
            "and every net has converged.")  # fmt: skip


def write_claims(run_dir: Path, label: str, extra: list | tuple = ()) -> tuple[Section, list, Judged]:
    """Judge every claim from the run's journal; write claims.md and the claim plots; return the section."""
    judged = judge_run(run_dir, label)
    acc_rows = judged.claims
    top1 = {arch: list(v.values()) for arch, v in judged.by_seed.items()}
    rows = per_layer_argument() + large_kernel_costs() + acc_rows + list(extra) + static_checks(load_reference())
    header = (
        f"Budget: {label}. Verdicts are computed from this run's rows: the 95% CI of the difference in "
        "top-1, paired by seed where both archs ran the same seeds (the same batches and shifts), else Welch's."
    )
    if judged.advice:
        header += " " + judged.advice
    missing = [cid for cid in ACCURACY_CLAIM_IDS if cid not in {r.claim for r in acc_rows}]
    if missing:  # say so rather than leave a user wondering where a claim went
        header += f" Not run at this budget: {', '.join(missing)} (--claims {','.join(missing)} runs them)."
    groups = [(cid, title, list(dict.fromkeys(n for a, b, _ in parts for n in (a, b))))
              for cid, title, _, _, parts in ACCURACY_CLAIMS]  # fmt: skip
    images = write_plots(run_dir / "plots", claims_plots(cost_frame(), top1, groups))
    atomic_write_text(run_dir / "claims.md", claims_markdown(rows, header))
    return claims_section(rows, header, images), rows, judged
