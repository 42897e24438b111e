"""report.html: one self-contained page (inline CSS, plots as base64 PNG, no scripts, no network)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from vggablate.report.tables import Table


@dataclass(frozen=True)
class Section:
    """An extra HTML section other modules add to the report (e.g. the claims and their verdicts)."""

    title: str
    html: str  # trusted HTML fragment, inserted as is


@dataclass(frozen=True)
class Image:
    """A rendered plot to embed."""

    name: str
    title: str
    png: bytes


CSS = """
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; --accent:#0969da; --bad:#cf222e; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0; background: #fff; }
header { background: var(--bg); border-bottom: 1px solid var(--line); padding: 20px 32px; }
header h1 { margin: 0 0 6px; font-size: 24px; }
header dl { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 0; color: var(--muted); font-size: 13px; }
header dt { font-weight: 600; display: inline; } header dd { display: inline; margin: 0 0 0 4px; }
nav { padding: 10px 32px; border-bottom: 1px solid var(--line); font-size: 13px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; }
main { max-width: 1280px; padding: 8px 32px 48px; }
h2 { font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 34px; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; margin-top: 6px; }
th, td { border: 1px solid var(--line); padding: 4px 10px; white-space: nowrap; }
th { background: var(--bg); text-align: left; }
td.num { text-align: right; } td.err { color: var(--bad); font-weight: 600; text-align: right; }
td.holds, td.contradicted, td.inconclusive { font-weight: 600; white-space: nowrap; }
td.holds { color: #1a7f37; } td.contradicted { color: var(--bad); } td.inconclusive { color: #9a6700; }
tbody tr:nth-child(even) { background: #fbfcfd; }
section.errors td { white-space: normal; }
figure { margin: 18px 0 26px; } figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 12px; padding: 0 32px 24px; }
"""


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def cell_class(column: str, text: str) -> str:
    """Return the CSS class of a cell: num (right-aligned), err (an error type) or none."""
    plain = text.replace(",", "").replace(".", "", 1).lstrip("+-")
    ci = " ± " in text or (" (n=" in text and text.endswith(")"))  # a top-1 cell: '88.10 ± 0.45 (n=3)'
    return "num" if plain.isdigit() or ci else "err" if text.isupper() and text.isalpha() else ""


def _cell(column: str, value: object, classify: Callable[[str, str], str]) -> str:
    text = str(value)
    cls = classify(column, text)
    return f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"


def table_html(table: Table, classify: Callable[[str, str], str] = cell_class) -> str:
    """Render a Table (cells are strings) as an HTML table with its note; classify(column, text) styles a cell."""
    cols = [str(c) for c in table.frame.columns]
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(_cell(c, v, classify) for c, v in zip(cols, row)) + "</tr>"
        for row in table.frame.itertuples(index=False)
    )
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}'


def image_html(image: Image) -> str:
    """Embed a PNG as a data: URI inside a figure with its caption."""
    data = base64.b64encode(image.png).decode("ascii")
    return (
        f'<figure id="plot-{_slug(image.name)}"><img alt="{escape(image.title)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{escape(image.title)} <code>plots/{escape(image.name)}.svg</code></figcaption></figure>"
    )


def render_html(
    title: str,
    header: dict[str, str],
    tables: Sequence[Table],
    images: Sequence[Image],
    sections: Sequence[Section] = (),
) -> str:
    """Return the whole report page: header, tables, plots, then any extra sections."""
    blocks: list[tuple[str, str, str]] = []  # (id, title, inner html)
    for t in tables:
        cls = ' class="errors"' if t.title == "Errors" else ""
        blocks.append((_slug(t.title), t.title, f"<section{cls}>" + table_html(t) + "</section>"))
    if images:
        blocks.append(("plots", "Plots", "".join(image_html(i) for i in images)))
    blocks += [(_slug(s.title), s.title, s.html) for s in sections]
    if not blocks:
        blocks.append(("empty", "No results", "<p>No rows with figures yet.</p>"))
    nav = "".join(f'<a href="#{i}">{escape(t)}</a>' for i, t, _ in blocks)
    meta = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in header.items() if v)
    body = "".join(f'<h2 id="{i}">{escape(t)}</h2>{inner}' for i, t, inner in blocks)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><dl>{meta}</dl></header><nav>{nav}</nav><main>{body}</main>"
        "<footer>Generated by vggablate from rows.jsonl (<code>python -m bench report RUN_DIR</code>). "
        "1 MAC = one multiply-add; FLOPs = 2 x MACs.</footer></body></html>\n"
    )
