"""Plain-text tables for the terminal (East Asian wide characters count as two columns).

Kept apart from cli/main.py so the auditor's commands (cli/audit.py) and reports can share them.
"""

from __future__ import annotations

import unicodedata


def width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def table(rows: list[list[str]], right: set[int] | None = None) -> str:
    """Rows of cells → aligned lines; columns in `right` are right-aligned (amounts, counts)."""
    right = right or set()
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            pad = " " * (widths[i] - width(c))
            cells.append(pad + c if i in right else c + pad)
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
