"""Server-rendered horizontal bar charts as inline SVG: no script, no font or file from the network.

Bar lengths are integer arithmetic on fen; the amount beside each bar is the exact text of the totals."""

from __future__ import annotations

from markupsafe import Markup, escape

from subsidy_engine.web.services.runs import fen

ROW, LABEL, BAR, GAP = 26, 180, 420, 8


def bar_chart(items: list[tuple[str, str]], title: str) -> Markup:
    """items: (label, amount as yuan text) in display order."""
    values = [fen(a) for _, a in items]
    top = max(values, default=0) or 1
    height = ROW * len(items) + 30
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {LABEL + BAR + 140} {height}"'
        f' width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, ((label, amount), v) in enumerate(zip(items, values, strict=True)):
        y = 28 + i * ROW
        w = v * BAR // top
        parts.append(f'<text x="{LABEL - GAP}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{LABEL}" y="{y + 2}" width="{w}" height="{ROW - 8}" class="bar"/>')
        parts.append(f'<text x="{LABEL + w + GAP}" y="{y + 15}">{escape(amount)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
