"""Writing a batch: the bank file (CSV or .xlsx, by its layout) and the list of lines held back for the caseworker.

CSV: the layout's encoding (UTF-8 with BOM by default, or GB18030) and line ends; a text a spreadsheet could take
for a formula gets a leading `'` as in every CSV of this program (safecells.py). .xlsx: 证件号码, accounts and
every other text are text cells (a 19-digit number would lose its last digits as a number), amounts are exact
decimals shown with two places, zip timestamps fixed so the same batch gives the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from subsidy_engine.money import fen_text
from subsidy_engine.privacy import mask_id
from subsidy_engine.release.batch import BankLine, Batch
from subsidy_engine.release.layout import Layout
from subsidy_engine.run import safecells
from subsidy_engine.run.writers import rezip_deterministic

SUFFIXES = (".csv", ".xlsx")
HELD_SUFFIX = "-待补账号.csv"
HELD_COLUMNS = [
    "名册行号",
    "户编号",
    "姓名",
    "证件号码",
    "代发账号(名册所填)",
    "开户银行",
    "发放月份",
    "项目",
    "项目名称",
    "金额",
    "原因代码",
    "说明",
]


def held_path(bank_file: Path) -> Path:
    """The list of held-back lines beside the bank file: `代发-202309.csv` → `代发-202309-待补账号.csv`."""
    return bank_file.with_name(bank_file.stem + HELD_SUFFIX)


def _rows(batch: Batch, layout: Layout) -> list[list[tuple[str, str]]]:
    """Every row of the bank file as (kind, text) cells; kind: text, int, money."""
    ctx = batch.context()

    def line_cells(templates: tuple[str, ...]) -> list[tuple[str, str]]:
        kinds = {"{count}": "int", "{total}": "money"}
        return [(kinds.get(t.strip(), "text"), t.format_map(ctx)) for t in templates]

    rows = [line_cells(r) for r in layout.before]
    rows.append([("text", c.title) for c in layout.columns])
    kind = {"seq": "int", "amount": "money"}
    for line in batch.lines:
        rows.append(
            [
                (kind.get(c.value, "text"), line.value(c.value)) if c.value else ("text", c.text)
                for c in layout.columns
            ]
        )
    rows += [line_cells(r) for r in layout.after]
    return rows


def write_bank_file(
    batch: Batch, layout: Layout, path: Path, *, kind: str = "csv", encoding: str | None = None
) -> None:
    """The bank file at `path`, `kind` "csv" or "xlsx"; `encoding` overrides the layout's (CSV only)."""
    rows = _rows(batch, layout)
    if kind == "xlsx":
        _write_xlsx(rows, layout.sheet, path)
        return
    text = [[safecells.neutral(v) if k == "text" else v for k, v in row] for row in rows]
    _write_csv(text, path, layout.codec(encoding), layout.line_end)


def write_held(batch: Batch, path: Path, codec: str = "utf-8-sig") -> None:
    """The lines held back, one per bank line, with the roster row to correct; 证件号码 masked (the roster row
    and 户编号 find the person)."""
    rows = [HELD_COLUMNS] + [_held_row(line) for line in batch.held]
    _write_csv([[safecells.neutral(v) for v in r] for r in rows], path, codec, "\r\n")


def _held_row(line: BankLine) -> list[str]:
    p = line.payee
    return [
        str(p.row),
        line.household_id,
        line.name,
        mask_id(line.id_number),
        p.written,
        p.bank,
        line.month,
        line.program,
        line.program_title,
        fen_text(line.fen),
        p.check.code,
        p.check.message,
    ]


def _write_csv(rows: list[list[str]], path: Path, codec: str, line_end: str) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator=line_end).writerows(rows)
    path.write_bytes(buf.getvalue().encode(codec))


def _write_xlsx(rows: list[list[tuple[str, str]]], sheet: str, path: Path) -> None:
    from openpyxl import Workbook  # late: start-up, openpyxl
    from openpyxl.cell import WriteOnlyCell  # late: start-up, openpyxl

    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = dt.datetime(2000, 1, 1)
    ws = wb.create_sheet(sheet)
    for row in rows:
        out = []
        for kind, value in row:
            if kind == "int" and value.isdigit():
                cell = WriteOnlyCell(ws, value=int(value))
            elif kind == "money":
                cell = WriteOnlyCell(ws, value=Decimal(value))
                cell.number_format = "0.00"
            else:
                cell = WriteOnlyCell(ws, value=safecells.ILLEGAL_XML.sub("\ufffd", value))
                cell.data_type = "s"  # never a number, never a formula
                cell.number_format = "@"
            out.append(cell)
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    rezip_deterministic(buf.getvalue(), path)
