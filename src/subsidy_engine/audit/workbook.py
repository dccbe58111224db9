"""Auditor workbooks (.xlsx): several sheets with Chinese headers, amounts as exact decimal cells, deterministic bytes.

`write_sheets` writes any list of (sheet name, frame); `write_audit_workbook` lays out the audit: a summary
sheet (totals computed vs paid, findings by type with amounts), one sheet per finding type, and the diff.
Every text is a string cell: a name starting with `=` is shown, never computed (safecells.py).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from subsidy_engine.cli.texttable import width
from subsidy_engine.money import fen, fen_text
from subsidy_engine.run.safecells import xlsx_text
from subsidy_engine.run.writers import rezip_deterministic

MONEY_HEADER = re.compile(r"金额|合计|差额|应发|实发")
MONEY_TEXT = re.compile(r"-?\d+\.\d\d")


def _cell(ws: Any, value: object, money: bool) -> object:
    if money and isinstance(value, str) and MONEY_TEXT.fullmatch(value):
        from openpyxl.cell import WriteOnlyCell  # late: start-up, openpyxl

        cell = WriteOnlyCell(ws, value=Decimal(value))
        cell.number_format = "#,##0.00"  # shown as 1,234.50; the cell holds the exact decimal
        return cell
    if isinstance(value, str):
        return xlsx_text(ws, value)  # a string cell, never a formula
    if isinstance(value, (bool, int, float, Decimal)):
        return value
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return xlsx_text(ws, str(value))


def write_sheets(path: Path, sheets: list[tuple[str, pd.DataFrame]]) -> None:
    """One sheet per frame: a bold header row, columns sized to their text, amounts as numeric cells."""
    from openpyxl import Workbook  # late: start-up, openpyxl
    from openpyxl.cell import WriteOnlyCell  # late: start-up, openpyxl
    from openpyxl.styles import Font  # late: start-up, openpyxl
    from openpyxl.utils import get_column_letter  # late: start-up, openpyxl

    wb = Workbook(write_only=True)
    fixed = dt.datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    bold = Font(bold=True)
    for name, frame in sheets:
        ws = wb.create_sheet(name[:31])
        cols = [str(c) for c in frame.columns]
        for i, c in enumerate(cols, start=1):
            widest = max([width(c), *(width(str(v)) for v in frame.iloc[:200, i - 1])], default=4)
            ws.column_dimensions[get_column_letter(i)].width = min(max(widest + 2, 6), 60)
        ws.freeze_panes = "A2"
        ws.page_setup.orientation = "landscape"  # printed: one page wide
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        header = []
        for c in cols:
            cell = WriteOnlyCell(ws, value=c)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        money = [bool(MONEY_HEADER.search(c)) for c in cols]
        for row in frame.itertuples(index=False, name=None):
            ws.append([_cell(ws, v, m) for v, m in zip(row, money, strict=True)])
    buf = io.BytesIO()
    wb.save(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    rezip_deterministic(buf.getvalue(), path)


def audit_summary(
    findings: pd.DataFrame, due_fen: int, paid_fen: int | None, titles: dict[str, str]
) -> pd.DataFrame:
    """The summary sheet: totals (应发, 实发, 差额) then one row per finding type with count and amount."""
    rows: list[list[object]] = [
        ["合计", "应发合计(按规则计算)", "", fen_text(due_fen)],
        [
            "合计",
            "实发合计(实际发放名单)",
            "",
            fen_text(paid_fen) if paid_fen is not None else "(未提供实发名单)",
        ],
    ]
    if paid_fen is not None:
        rows.append(["合计", "实发 − 应发", "", fen_text(paid_fen - due_fen)])
    for code, title in titles.items():
        part = findings[findings["代码"] == code]
        rows.append([code, title, len(part), fen_text(sum(fen(v) for v in part["涉及金额"]))])
    return pd.DataFrame(rows, columns=["代码", "项目", "条数", "金额"])


def write_audit_workbook(
    path: str | Path,
    findings: pd.DataFrame,
    titles: dict[str, str],
    due_fen: int,
    paid_fen: int | None = None,
    diff_sheets: list[tuple[str, pd.DataFrame]] | None = None,
) -> Path:
    """The audit workbook: 汇总, one sheet per finding type that occurred (named by its code), then the diff."""
    p = Path(path)
    sheets: list[tuple[str, pd.DataFrame]] = [("汇总", audit_summary(findings, due_fen, paid_fen, titles))]
    for code in titles:
        part = findings[findings["代码"] == code]
        if len(part):
            sheets.append((code, part.reset_index(drop=True)))
    sheets += diff_sheets or []
    write_sheets(p, sheets)
    return p
