"""The deterministic file writers of a run folder: CSV, .xlsx and Parquet whose bytes depend only on the frame.

No timestamps inside any file (fixed zip times, fixed document properties). No text cell can be read as a
formula: CSV cells that could are prefixed with `'`, .xlsx texts are string cells (safecells.py).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from subsidy_engine.arrays import arrow_of
from subsidy_engine.cli.texttable import width
from subsidy_engine.run import safecells

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _arrow_text(values: pd.Series) -> pa.ChunkedArray:
    """A column as pyarrow strings: zero-copy for a pandas `str` column, converted otherwise."""
    arr = arrow_of(values)
    if arr is not None:
        return arr
    if values.dtype != object:
        values = values.astype(str)
    return pa.chunked_array([pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)])


def _has_structural(column: pa.ChunkedArray) -> bool:
    """Whether any value holds a comma, quote or line break: a byte search over the value buffers (a buffer
    shared with a slice may answer yes for a value outside it; that only sends the frame the careful way)."""
    for chunk in column.chunks:
        data = chunk.buffers()[2] if chunk.null_count < len(chunk) else None
        if data is not None:
            raw = data.to_pybytes()
            if any(raw.find(ch) >= 0 for ch in (b",", b'"', b"\r", b"\n")):
                return True
    return False


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8, no BOM, `\n`, fields quoted only where needed (the bytes of pandas' minimal quoting); a text a
    spreadsheet could take for a formula gets a leading `'` (safecells.py; plain numbers never do).

    pyarrow writes the common case (no value holds a comma, quote or line break) an order of magnitude faster;
    a frame with such a value is written by pandas."""

    columns = [_arrow_text(frame[c]) for c in frame.columns]
    copied = False
    for i, col in enumerate(columns):
        mask = safecells.risky_mask(col)
        if mask is not None:
            if not copied:
                frame, copied = frame.copy(deep=False), True
            fixed = pd.Series(safecells.quoted(frame.iloc[:, i], mask), index=frame.index, dtype=object)
            frame.isetitem(i, fixed)
            columns[i] = _arrow_text(fixed)
    structural = any(_has_structural(col) for col in columns)
    if structural or any(ch in h for h in map(str, frame.columns) for ch in ',"\r\n'):
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return
    table = pa.table(columns, names=[f"c{i}" for i in range(len(columns))])
    with path.open("wb") as out:
        out.write((",".join(map(str, frame.columns)) + "\n").encode("utf-8"))
        if len(frame):
            pacsv.write_csv(
                table, out, write_options=pacsv.WriteOptions(include_header=False, quoting_style="none")
            )


WIDTH_SAMPLE = 500  # rows looked at to size a column


def _widths(frame: pd.DataFrame) -> list[float]:
    """Column widths for Excel from the header and the first rows (CJK characters count double)."""

    head = frame.iloc[:WIDTH_SAMPLE]
    return [
        float(min(max([width(str(c)), *(width(str(v)) for v in head.iloc[:, i])], default=4) + 3, 60))
        for i, c in enumerate(frame.columns)
    ]


def write_xlsx(
    frame: pd.DataFrame, path: Path, sheet: str, money_columns: tuple[str, ...] = ("金额",)
) -> None:
    """An Excel-ready .xlsx: a bold frozen header with a filter, columns sized to their text, amounts as exact
    numeric cells shown `#,##0.00` (decimal text in the cell XML, never a float), 证件号码/户编号 and every other
    text as string cells (never a number, never a formula), fixed zip timestamps."""

    from openpyxl import Workbook  # late: start-up, openpyxl
    from openpyxl.cell import WriteOnlyCell  # late: start-up, openpyxl
    from openpyxl.styles import Font  # late: start-up, openpyxl
    from openpyxl.utils import get_column_letter  # late: start-up, openpyxl

    wb = Workbook(write_only=True)
    fixed = dt.datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    ws = wb.create_sheet(sheet[:31])
    cols = list(frame.columns)
    for i, w in enumerate(_widths(frame), start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(frame) + 1}"
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"
    bold = Font(bold=True)
    header = []
    for c in cols:
        cell = WriteOnlyCell(ws, value=str(c))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    money_idx = {i for i, c in enumerate(cols) if c in money_columns}
    # one styled cell per money column, re-used: each row is written out as soon as it is appended
    money = {i: WriteOnlyCell(ws, value=0) for i in money_idx}
    for cell in money.values():
        cell.number_format = "#,##0.00"
    # the columns holding a text openpyxl would make a formula (or that XML cannot hold): checked per cell
    special = [
        i
        for i, c in enumerate(cols)
        if i not in money_idx and safecells.xlsx_needs_cell(_arrow_text(frame.iloc[:, i]))
    ]
    money_list = sorted(money_idx)
    for row in frame.itertuples(index=False, name=None):
        values: list[object] = list(row)
        for i in money_list:
            if values[i] != "":
                money[i].value = Decimal(str(values[i]))
                values[i] = money[i]
        for i in special:
            text = values[i]
            if isinstance(text, str):
                values[i] = safecells.xlsx_text(ws, text)
        ws.append(values)
    buf = io.BytesIO()
    wb.save(buf)
    rezip_deterministic(buf.getvalue(), path)


def rezip_deterministic(data: bytes, path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", body)
            dst.writestr(fixed, body)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow.parquet as pq  # late: start-up, Parquet

    table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd")
