"""Bar charts as plain HTML (a figure with a list): readable on a phone, text a screen reader can read, no
script, no inline style (the page's CSP forbids it), no font or file from the network.

Bars are sorted by amount, largest first; their lengths are integer arithmetic on fen; the amount beside each
bar is the exact total with thousands separators."""

from __future__ import annotations

from markupsafe import Markup

from subsidy_engine.money import fen
from subsidy_engine.web.labels import yuan


def bar_chart(items: list[tuple[str, str]], title: str, chart_id: str = "") -> Markup:
    """items: (label, amount as yuan text); shown sorted by amount, largest first."""
    ranked = sorted(items, key=lambda it: (-fen(it[1]), it[0]))
    top = max((fen(a) for _, a in ranked), default=0) or 1
    rows = Markup("").join(
        Markup(
            '<li><span class="label">{}</span><svg class="track" viewBox="0 0 1000 10" preserveAspectRatio="none" aria-hidden="true">'
            '<rect class="bar" width="{}" height="10"/></svg><span class="value">{} 元</span></li>'
        ).format(label, max(fen(amount), 0) * 1000 // top, yuan(amount))
        for label, amount in ranked
    )
    return Markup('<figure class="chart" id="{}"><figcaption>{}</figcaption><ol>{}</ol></figure>').format(
        chart_id, title, rows
    )
