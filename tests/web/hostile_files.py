"""Hostile uploads built on the spot (small on disk, each aimed at one way a reader can be made to fall over).

Each builder writes one file and returns its path; `HOSTILE` names them with the outcome the web app must give:
a 400 with a Chinese message ("refused"), or the validation report with the rows rejected ("report").
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable
from pathlib import Path

from helpers import household_rows

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _xlsx(path: Path, write_sheet: Callable[[zipfile.ZipFile], None]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        write_sheet(z)
    return path


def far_cell_xlsx(path: Path) -> Path:
    """One cell, at XFD1048576 (the last cell a sheet can have): a dense reader asks for 512 GiB."""

    def sheet(z: zipfile.ZipFile) -> None:
        z.writestr(
            "xl/worksheets/sheet1.xml",
            SHEET_HEAD + '<dimension ref="A1:XFD1048576"/><sheetData>'
            '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            "</sheetData></worksheet>",
        )

    return _xlsx(path, sheet)


def zip_bomb_xlsx(path: Path, megabytes: int = 200) -> Path:
    """A small .xlsx whose sheet XML expands to `megabytes` MB of identical rows."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c><c t="inlineStr"><is><t>y</t></is></c></row>'
    block = row * ((1 << 20) // len(row) + 1)

    def sheet(z: zipfile.ZipFile) -> None:
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(SHEET_HEAD.encode() + b"<sheetData>")
            for _ in range(megabytes):
                f.write(block)
            f.write(b"</sheetData></worksheet>")

    return _xlsx(path, sheet)


def wide_csv(path: Path, columns: int = 250_000) -> Path:
    """A header of `columns` columns (the roster has 26)."""
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n1\n", encoding="utf-8")
    return path


def long_line_csv(path: Path, chars: int = 140_000) -> Path:
    """A first line longer than the CSV module's default field limit (131,072 characters)."""
    path.write_text("户编号" + "x" * chars + "\n1\n", encoding="utf-8")
    return path


def mangled_ids_csv(path: Path, households: int = 60) -> Path:
    """The 证件号码 column as Excel saves it once it became numbers: every ID `5.00119E+17`."""
    rows = household_rows(
        [
            {
                "乡镇": "兴隆镇",
                "行政村": "金花村",
                "members": [{"姓名": f"甲{i}", "与户主关系": "户主", "born": "1950-01-01", "特困人员": True}],
            }
            for i in range(households)
        ]
    )
    for r in rows:
        r["证件号码"] = "5.00119E+17"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


HOSTILE: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    # name: (builder, file name, outcome)
    "far-cell": (far_cell_xlsx, "far-cell.xlsx", "refused"),
    "zip-bomb": (zip_bomb_xlsx, "bomb.xlsx", "refused"),
    "wide-header": (wide_csv, "wide.csv", "refused"),
    "long-line": (long_line_csv, "long-line.csv", "refused"),
    "excel-mangled-ids": (mangled_ids_csv, "mangled.csv", "report"),
}
