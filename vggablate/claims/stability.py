"""When has a claim settled? Budgets doubled until the ranking stops moving and every net has converged.

``bench claims --until-stable`` trains the claims' nets at a budget B, then 2B, 4B, ...; after each
budget it compares the archs' ranking with the previous budget's (Kendall's tau-b, vggablate.claims.ranking)
and checks every comparison's convergence (vggablate.training.convergence). It stops when both hold, or at a
cap. This module holds the decision and its report, on numbers alone: never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vggablate.claims.ranking import RankAgreement, rank_agreement
from vggablate.report.summary import markdown_table
from vggablate.words import plural

TAU_MIN = 0.8  # Kendall's tau-b between budgets B and 2B at which the ranking counts as settled


@dataclass(frozen=True)
class BudgetStep:
    """One budget of an until-stable run: its verdicts, the ranking's agreement with the previous one."""

    epochs: float
    train_minutes: float  # the budget's training time (sum of its trials' durations)
    verdicts: Mapping[str, str]  # claim id -> the verdict as shown (unconverged first, its reading beside)
    unconverged: tuple[str, ...]  # "a vs b" comparisons whose nets still climb, or whose climb is unknown
    agreement: RankAgreement | None  # tau against the previous budget; None for the first one
    same_order: bool | None = None  # with 2 archs tau is +-1: whether the order held; None with 3+


@dataclass(frozen=True)
class Decision:
    """Whether the claims have settled at a budget, and why (or why not)."""

    settled: bool
    reason: str


def rank_change(previous: Mapping[str, Sequence[float]], current: Mapping[str, Sequence[float]]) -> tuple:
    """Return (agreement, same_order) between two budgets' top-1 per seed per arch: tau with 3+ archs."""
    archs = sorted(a for a in current if previous.get(a) and current.get(a))
    if len(archs) >= 3:
        return rank_agreement(previous, current), None
    if len(archs) == 2:
        a, b = archs
        before = _mean(previous[a]) - _mean(previous[b])
        after = _mean(current[a]) - _mean(current[b])
        return None, (before > 0) == (after > 0)
    return None, None


def decide(step: BudgetStep, tau_min: float = TAU_MIN) -> Decision:
    """Decide whether the claims settled at this step: the ranking held since the last budget, all converged."""
    if step.unconverged:
        return Decision(False, f"still improving or unknown: {', '.join(step.unconverged)}")
    if step.agreement is None and step.same_order is None:
        return Decision(False, "no earlier budget to compare the ranking with")
    if step.agreement is not None:
        a = step.agreement
        tau = f"tau {a.tau:+.2f} [{a.lo:+.2f}, {a.hi:+.2f}]"
        if math.isnan(a.tau) or a.tau < tau_min:
            return Decision(False, f"the ranking moved: {tau} < {tau_min:g}")
        return Decision(True, f"ranking held ({tau} >= {tau_min:g}) and every net converged")
    if not step.same_order:
        return Decision(False, "the two archs swapped places")
    return Decision(True, "the two archs kept their order and both converged")


def unconverged_parts(comparisons: Sequence) -> tuple[str, ...]:
    """Name the comparisons (vggablate.claims.verdict.Judgement) that are unconverged or whose climb is unknown."""
    return tuple(f"{c.a} vs {c.b}" for c in comparisons if c.unconverged is not False)


def stability_markdown(steps: Sequence[BudgetStep], decisions: Sequence[Decision], header: str) -> str:
    """Return stability.md: one row per budget with its verdicts, tau against the budget before, the decision."""
    claims = list(dict.fromkeys(c for s in steps for c in s.verdicts))
    rows = []
    for s, d in zip(steps, decisions):
        if s.agreement is not None:
            a = s.agreement
            tau = f"{a.tau:+.2f} [{a.lo:+.2f}, {a.hi:+.2f}]"
        else:
            tau = {True: "order held", False: "order swapped", None: "—"}[s.same_order]
        row = {"epochs": f"{s.epochs:g}", "train min": f"{s.train_minutes:.1f}", "tau vs previous (95% CI)": tau}
        row.update({c: s.verdicts.get(c, "") for c in claims})
        row["settled"] = ("yes: " if d.settled else "no: ") + d.reason
        rows.append(row)
    import pandas as pd

    table = markdown_table(pd.DataFrame(rows))
    runs = plural(len(steps), "budget")
    return f"# Claims until stable\n\n{header}\n\n{runs}, each in its own folder `epochs-N/`.\n\n{table}\n"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)
