"""The compute ledger (``measure.ledger.LedgerRow``s) as a Markdown table. No torch."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from vggablate.report.summary import markdown_table

LEDGER_NOTE = (
    "1 MAC = one multiply-add (torchvision's GMACs); FlopCounterMode counts FLOPs = 2 x MACs. Δ = the counter "
    "in MACs - analytic; attributed: the ops that explain Δ, by the counter's own rules (measure/ledger.py); "
    "unattributed: Δ the rules leave unexplained (0 = reconciled). Skipped: ops and layers the counter counts as 0."
)


def _count(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:,.2f}"


def ledger_frame(rows: Sequence[object]) -> pd.DataFrame:
    """Return one formatted line per counter."""
    return pd.DataFrame([{
        "counter": r.counter,
        "reported": f"{_count(r.reported)} {r.unit}",
        "Δ MACs": f"{r.diff:+,.0f}" if r.diff else "0",
        "attributed to": "; ".join(f"{op} {v:+,.0f}" for op, v in r.attributed) or "-",
        "unattributed": _count(r.unattributed) if abs(r.unattributed) >= 0.5 else "0",
        "skipped (counted 0)": ", ".join(r.skipped) or "-",
    } for r in rows])  # fmt: skip


def ledger_markdown(rows: Sequence[object], arch: str, input_size: int) -> str:
    """Return the ledger of one arch at one input size as a titled Markdown table with its note."""
    return "\n".join([f"## Compute ledger: {arch} at {input_size}x{input_size}, batch 1", "",
                      markdown_table(ledger_frame(rows)), "", f"_{LEDGER_NOTE}_", ""])  # fmt: skip
