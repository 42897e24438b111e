"""Numbers to strings for the report: fixed decimals, significant figures, CIs on a bounded scale."""

from __future__ import annotations

import math

PERCENT = (0.0, 100.0)  # the feasible range of top-1/top-5: a CI past it says "too few seeds", not "below 0%"
DIFF_PP = (-100.0, 100.0)  # a difference of two top-1s, in percentage points
CLIPPED = "†"  # marks a CI shown clipped to PERCENT; the table's note explains it


def num(v: object) -> bool:
    """Say whether v is a finite number (bools are not numbers here)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def fmt(v: object, digits: int = 2, thousands: bool = False) -> str:
    """Format a number with fixed decimals; missing values are an empty cell."""
    if not num(v):
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    return f"{v:,.{digits}f}" if thousands else f"{v:.{digits}f}"


def fmt_as(v: object, spec: str, missing: str = "-") -> str:
    """Format a number with a format spec ('.1%', '.3g'); a missing or non-finite value reads ``missing``."""
    return format(v, spec) if num(v) else missing


def fmt_si(v: float) -> str:
    """Format a count with a G/M/k prefix and three decimals (vgg16: 15.470 G, torchvision's GMACs)."""
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:.3f} {prefix}"
    return f"{v:g}"


def fmt_sig(v: object, sig: int = 3) -> str:
    """Format a number with about `sig` significant figures (latencies span 1 ms to 1 s)."""
    if not num(v) or v == 0:
        return fmt(v)
    digits = max(0, sig - 1 - int(math.floor(math.log10(abs(v)))))
    return f"{v:,.{digits}f}"


def fmt_keep(v: object, digits: int = 0, sig: int = 3, thousands: bool = True) -> str:
    """Format with `digits` decimals, more when needed to keep `sig` significant figures (1.3 img/s, not 1)."""
    if not num(v) or v == 0:
        return fmt(v, digits, thousands)
    return fmt(v, max(digits, sig - 1 - int(math.floor(math.log10(abs(v))))), thousands)


def beyond(lo: float, hi: float, scale: tuple[float, float] = PERCENT) -> bool:
    """Say whether a CI [lo, hi] runs past the ends of the scale."""
    return num(lo) and num(hi) and (lo < scale[0] or hi > scale[1])


def clip(lo: float, hi: float, scale: tuple[float, float] = PERCENT) -> tuple[float, float]:
    """Return the CI clipped to the scale (what a plot may draw)."""
    return max(lo, scale[0]), min(hi, scale[1])


def fmt_ci(mean: float, lo: float, hi: float, n: int, scale: tuple[float, float] = PERCENT) -> str:
    """Format 'mean ± half-width (n=…)'; no ± with one seed; '[lo, hi]†' clipped when it runs past the scale."""
    if not num(mean):
        return ""
    if not num(lo):
        return f"{mean:.2f} (n={int(n)})"
    if beyond(lo, hi, scale):
        # A symmetric ± past 0 or 100 reads as an impossible accuracy: show the feasible part, flagged.
        c_lo, c_hi = clip(lo, hi, scale)
        return f"{mean:.2f} [{c_lo:.2f}, {c_hi:.2f}]{CLIPPED} (n={int(n)})"
    return f"{mean:.2f} ± {(hi - lo) / 2:.2f} (n={int(n)})"


def clipped_note(half_widths: list[float], scale: tuple[float, float] = PERCENT) -> str:
    """Explain the † cells: the unclipped half-widths, and that more seeds narrow them."""
    widest = max(half_widths)
    return (
        f"{CLIPPED} the 95% CI runs past {scale[0]:g}-{scale[1]:g}% (half-width up to ±{widest:.2f} pp): "
        "shown as [low, high] clipped to the scale: too few seeds for their spread, add seeds."
    )
