"""Render the paper's claims: claims.md, plots per claim, and a section of report.html. No torch."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import pandas as pd
import seaborn as sns
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from vggablate.report.html import Image, Section, image_html, table_html
from vggablate.report.plotkit import RC, Palette, arch_palette, ci_yerr, new_fig, percent_axis
from vggablate.report.plots import render
from vggablate.report.summary import markdown_table
from vggablate.report.tables import Table
from vggablate.stats import mean_ci

COLUMNS = ("claim", "title", "source", "paper", "measured", "verdict", "note")
HEADERS = ("claim", "what", "source", "paper says", "we measured", "verdict", "note")


def claims_frame(rows: Sequence) -> pd.DataFrame:
    """Turn ClaimRows into a table of strings with readable headers."""
    return pd.DataFrame([[getattr(r, c) for c in COLUMNS] for r in rows], columns=list(HEADERS))


def claims_markdown(rows: Sequence, header: str) -> str:
    """Return claims.md: the budget line and one table row per claim."""
    return f"# VGG paper claims\n\n{header}\n\n{markdown_table(claims_frame(rows))}\n"


def accuracy_plot(title: str, archs: list[str], top1: dict[str, list[float]], pal: Palette) -> Figure | None:
    """Top-1 mean with its 95% CI per arch of one claim (dots are the seeds)."""
    here = [a for a in archs if top1.get(a)]
    if len(here) < 2:
        return None
    fig, (ax,) = new_fig(1, max(4.0, 1.3 * len(here) + 2), 3.8)
    clipped = False
    for i, arch in enumerate(here):
        ci = mean_ci(top1[arch])
        ax.scatter([i] * len(top1[arch]), top1[arch], color=pal[arch], alpha=0.45, s=18, zorder=2, clip_on=False)
        err, cut = ci_yerr(ci.mean, ci.lo, ci.hi)  # clipped to 0-100%: a CI past it means too few seeds
        clipped |= cut
        ax.errorbar([i], [ci.mean], yerr=err, fmt="o", color=pal[arch], capsize=6, ms=8, zorder=3, clip_on=False)
    percent_axis(ax)
    ax.set_xticks(range(len(here)), here, rotation=20)
    ax.set_ylabel("test top-1 (%)")
    cut = ", clipped to 0-100%" if clipped else ""
    lone = "; 1 seed: no interval" if any(len(top1[a]) < 2 for a in here) else ""
    ax.set_title(f"{title}\nmean and 95% CI (Student t{cut}){lone}; dots: seeds")
    ax.grid(axis="y", alpha=0.3)
    return fig


def cost_plot(costs: pd.DataFrame, pal: Palette) -> Figure | None:
    """Per-stage conv params and GMACs, 3x3 stacks next to their large-kernel rewrites (stacked by stage)."""
    if costs.empty:
        return None
    archs = list(dict.fromkeys(costs["arch"]))
    fig, axes = new_fig(2, max(5.0, 0.9 * len(archs) + 2), 4.2)
    stage_cols = sorted({s for s in costs["stage"]})
    shades = [0.35 + 0.6 * i / max(1, len(stage_cols) - 1) for i in range(len(stage_cols))]
    for ax, (what, scale, label) in zip(axes, (("params", 1e6, "conv params (millions)"), ("macs", 1e9, "conv GMACs"))):
        bottom = pd.Series(0.0, index=archs)
        for stage, alpha in zip(stage_cols, shades):
            part = costs[costs["stage"] == stage].set_index("arch")[what].reindex(archs).fillna(0) / scale
            ax.bar(archs, part, bottom=bottom, color=[pal[a] for a in archs], alpha=alpha, edgecolor="white")
            bottom += part
        ax.set_ylabel(label)
        ax.tick_params(axis="x", rotation=30)
    axes[0].set_title("Parameters by stage")
    axes[1].set_title("Compute by stage @224px")
    handles = [Patch(facecolor="0.2", alpha=a, label=f"stage {s}") for s, a in zip(stage_cols, shades)]
    fig.legend(handles=handles, loc="outside right upper", frameon=False)
    fig.suptitle("Stacked 3x3 convs vs one large kernel of the same receptive field")
    return fig


def claims_plots(
    costs: pd.DataFrame, top1: dict[str, list[float]], groups: Sequence
) -> list[tuple[str, str, bytes, bytes]]:
    """Render (name, title, png, svg): the cost plot and one accuracy plot per claim group (name, title, archs)."""
    pal = arch_palette(sorted(set(costs["arch"] if not costs.empty else []) | set(top1)))
    figs = [("claim_cost_3x3", "Stacked 3x3 vs large kernel: conv params and MACs by stage", cost_plot(costs, pal))]
    figs += [(f"claim_{name}", title, accuracy_plot(title, archs, top1, pal)) for name, title, archs in groups]
    out = []
    with rc_context(RC), sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        for name, title, fig in figs:
            if fig is not None:
                out.append((name, title, *render(fig)))
    return out


def claims_section(rows: Sequence, header: str, images: Sequence[Image]) -> Section:
    """Return the report.html section: the claims table and its plots."""
    table = table_html(Table("Paper claims", claims_frame(rows)), _verdict_class)
    return Section("Paper claims", f"<p>{escape(header)}</p>{table}" + "".join(image_html(i) for i in images))


def _verdict_class(column: str, text: str) -> str:
    # Only the verdict is coloured: the claims' other cells are prose, never figures to right-align.
    if column != "verdict":
        return ""
    return {"holds": "holds", "contradicted": "contradicted", "does not hold": "contradicted"}.get(text, "inconclusive")
