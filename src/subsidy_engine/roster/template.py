"""The roster template: an empty .xlsx with every roster column, for an office to fill in and upload as it is.

Row 1 holds the Chinese headers (frozen, with a comment on each saying what to write); there is no description
row, which the reader would take for data. The second sheet 填写说明 lists every column with its rule. Enumerated
and 是/否 columns get a drop-down list; 证件号码, 残疾证号 and the other text, date and month columns are formatted
as text, so a spreadsheet keeps a final X, leading zeros and dates exactly as typed.
"""

from __future__ import annotations

import io
from pathlib import Path

from subsidy_engine.roster.schema import COLUMNS, Column, help_text
from subsidy_engine.run.outdir import atomic_file, os_errors

ROWS = 5000  # rows the drop-down lists and formats cover
TEXT_KINDS = frozenset({"text", "id", "enum", "date", "month"})
SHEET = "名册"
GUIDE = "填写说明"


def choices(c: Column) -> tuple[str, ...]:
    """The values a drop-down list offers (enumerated columns and 是/否 columns)."""
    if c.kind == "enum":
        return c.values
    if c.kind == "bool":
        return ("是", "否")
    return ()


def width(c: Column) -> float:
    wide = {"id": 22, "date": 14, "month": 12, "money": 14}
    if c.alias == "disability_cert":
        return 24
    return max(wide.get(c.kind, 10), 2.2 * len(c.name) + 2, *(2.2 * len(v) + 4 for v in choices(c)))


def template_bytes() -> bytes:
    from openpyxl import Workbook  # late: start-up, openpyxl
    from openpyxl.comments import Comment  # late: start-up, openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill  # late: start-up, openpyxl
    from openpyxl.utils import get_column_letter  # late: start-up, openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation  # late: start-up, openpyxl

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    head_font, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for i, c in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i, value=c.name)
        cell.font, cell.fill = head_font, fill
        cell.alignment = Alignment(horizontal="center")
        comment = Comment(help_text(c), "subsidy-engine")
        comment.width, comment.height = 260, 110
        cell.comment = comment
        ws.column_dimensions[letter].width = width(c)
        if c.kind in TEXT_KINDS:
            ws.column_dimensions[letter].number_format = "@"
        values = choices(c)
        if values:
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(values) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=c.name,
                error=f"请从列表中选择: {' / '.join(values)}",
            )
            dv.add(f"{letter}2:{letter}{ROWS + 1}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    guide = wb.create_sheet(GUIDE)
    guide.append(["列名", "英文别名", "级别", "填写要求"])
    for cell in guide[1]:
        cell.font, cell.fill = head_font, fill
    for c in COLUMNS:
        guide.append([c.name, c.alias, "户" if c.level == "H" else "人", help_text(c)])
    guide.append([])
    guide.append(
        [
            "说明",
            "",
            "",
            "每人一行;同户各成员的户级列(户编号至家庭有机动车)填写一致。第一个工作表是名册,上传时只读它。",
        ]
    )
    for letter, w in zip("ABCD", (16, 28, 6, 90), strict=True):
        guide.column_dimensions[letter].width = w
    guide.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_template(path: Path, *, overwrite: bool = False) -> None:
    """The template at `path`, written whole (run/outdir.py: a new file unless `overwrite`, parent must exist)."""
    data = template_bytes()
    with atomic_file(path, overwrite=overwrite, parents=False) as tmp, os_errors(path):
        tmp.write_bytes(data)
