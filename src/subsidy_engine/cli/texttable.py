"""Plain-text tables for the terminal (East Asian wide characters count as two columns), and ID masking.

Kept apart from cli.py so the auditor's commands (cli_audit.py) and reports can share them.
"""

from __future__ import annotations

import re
import unicodedata

ID_LIKE = re.compile(r"\d{17}[\dXx]")


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


def mask_id(value: object) -> str:
    """证件号码 for publication: first 6 + `********` + last 4; anything shorter than 10 characters is starred."""
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    if len(text) < 10:
        return "*" * len(text)
    return text[:6] + "********" + text[-4:]
