"""Reading a CSV roster (UTF-8, UTF-8 with BOM or GB18030; LF, CRLF or old-Mac CR line ends).

pyarrow reads a well-formed file; anything else (an empty line, a row of another width, a quoted line break,
another encoding) goes the careful way, with the csv module, record by record, so that row numbers stay those a
spreadsheet shows and every problem can name its line. Refused with one message: a header wider than the column
limit, a cell longer than the character limit, more lines than the row limit, and a quote that never closes or
swallows what looks like whole rows. A row shorter than the header is kept and marked (ROW_TOO_SHORT).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from subsidy_engine.errors import FileFormatError
from subsidy_engine.limits import Limits
from subsidy_engine.roster import csv_lines
from subsidy_engine.roster.cellgrid import Cells, column_label, frame_from_rows, short_row_marks
from subsidy_engine.roster.cells import TRIM
from subsidy_engine.roster.schema import COLUMNS

BOM = b"\xef\xbb\xbf"


def read_csv(p: Path, raw: bytes, limits: Limits) -> Cells:
    head = raw[:4096]
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or head.count(b"\x00") > len(head) // 100:
        hint = (
            "(像是 Excel 文件,请用 .xlsx 扩展名)"
            if head.startswith(b"PK")
            else "(含二进制内容或为 UTF-16 编码)"
        )
        raise FileFormatError(f"{p}: 不是文本 CSV 文件{hint}", path=str(p))
    lines = max(raw.count(b"\n"), raw.count(b"\r"))
    if lines > limits.rows + 1:
        raise FileFormatError(
            f"{p}: 文件有 {lines} 行,超过上限 {limits.rows} 行(SUBSIDY_MAX_ROWS);"
            "更大的花名册请转为 Parquet 格式,用 --engine dask 计算",
            path=str(p),
        )
    data = raw[3:] if raw.startswith(BOM) else raw
    with field_limit(limits.cell_chars):
        fast = _read_arrow(p, data, limits)  # pyarrow checks the UTF-8 itself
        if fast is not None:
            return fast
        text, encoding = _decode(raw, p)
        if encoding == "gb18030":
            fast = _read_arrow(p, text.encode("utf-8"), limits)  # re-encoded for pyarrow
            if fast is not None:
                return fast
        return _read_records(p, text, limits)


def _decode(raw: bytes, p: Path) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, else GB18030."""
    for encoding, body in (("utf-8", raw[3:] if raw.startswith(BOM) else raw), ("gb18030", raw)):
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileFormatError(f"{p}: 编码无法识别(应为 UTF-8 或 GB18030)", path=str(p))


def _check_width(p: Path, width: int, row: int, limits: Limits) -> None:
    if width > limits.columns:
        raise FileFormatError(
            f"{p}: 第 {row} 行(表头)有 {width} 列,超过上限 {limits.columns} 列(SUBSIDY_MAX_COLUMNS);"
            f"花名册只有 {len(COLUMNS)} 列,请检查分隔符",
            path=str(p),
        )


def _too_long(p: Path, row: int, label: str, chars: int, limits: Limits) -> FileFormatError:
    return FileFormatError(
        f"{p}: 第 {row} 行{label}的单元格有 {chars} 个字符,超过上限 {limits.cell_chars}"
        "(SUBSIDY_MAX_CELL_CHARS);请检查该行的引号是否配对",
        path=str(p),
    )


def _read_arrow(p: Path, data: bytes, limits: Limits) -> Cells | None:
    """The fast path (pyarrow) for well-formed UTF-8 whose header is its first line and which has no empty
    line, no row of another width and no line break inside a cell (as many rows as lines); anything else goes
    the careful way (`_read_records`) to keep row numbers and check quotes."""
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    end = min(ends) if ends else len(data)
    try:
        first = data[:end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    _check_width(p, first.count(",") + 1, 1, limits)
    header = _one_record(p, first, 1, None, limits)
    if first.count('"') % 2 or not any(c.strip(TRIM) for c in header) or len(header) < 2:
        return None
    names = [f"c{i}" for i in range(len(header))]
    skipped: list[bool] = []  # rows of another width, in a file whose lines are its records (csv_lines.py)

    def skip(_row: object) -> str:
        skipped.append(True)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=skip if csv_lines.simple_lines(data) else None,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names},  # what pandas `str` holds: no copy
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # invalid UTF-8, an empty line, a short/long row
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines != table.num_rows + 1 + len(
        skipped
    ):  # a line break inside a quoted cell (or CR line ends): checked carefully
        return None
    header = [c.strip(TRIM) for c in header]
    for i in range(len(names)):
        col = table.column(i)
        if len(col) and pc.max(pc.binary_length(col)).as_py() > limits.cell_chars:
            chars = pc.utf8_length(col)
            over = pc.greater(chars, limits.cell_chars)
            if pc.any(over).as_py():
                at = pc.index(over, True).as_py()
                raise _too_long(p, at + 2, column_label(header, i), chars[at].as_py(), limits)
    if skipped:
        return csv_lines.cells_with_odd_rows(table, header, data, len(skipped))
    frame = pd.DataFrame({i: table.column(i).to_pandas() for i in range(len(names))})
    return Cells(header, frame, np.arange(2, len(frame) + 2))


def _one_record(p: Path, line: str, row: int, header: list[str] | None, limits: Limits) -> list[str]:
    """One line as CSV cells, a cell over the character limit refused by name."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        raise _field_error(p, [line], row, header, limits) from None


def _field_error(p: Path, lines: list[str], row: int, header: list[str] | None, limits: Limits) -> Exception:
    """The error for a record the csv module refused: a cell too long (named), or unreadable quoting."""
    old = csv.field_size_limit(sys.maxsize)
    try:
        cells = next(csv.reader(iter(lines)), [])
    except csv.Error:
        cells = []
    finally:
        csv.field_size_limit(old)
    for j, c in enumerate(cells):
        if len(c) > limits.cell_chars:
            return _too_long(p, row, column_label(header or [], j), len(c), limits)
    return FileFormatError(f"{p}: 第 {row} 行无法按 CSV 读取(引号或分隔符有误)", path=str(p))


def _read_records(p: Path, text: str, limits: Limits) -> Cells:
    """The careful path: the csv module, one record at a time, each with the physical lines it took."""
    taken: list[list[str]] = [[]]  # the lines of the record being read

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            taken[0].append(line)
            yield line

    records: list[list[str]] = []
    header: list[str] | None = None
    line_no = 0  # physical lines before the current record
    last: list[str] = []
    reader = csv.reader(lines())
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error:
            raise _field_error(p, taken[0], len(records) + 1, header, limits) from None
        last, taken[0] = taken[0], []
        if len(last) > 1:
            _check_quotes(p, rec, line_no + 1, len(last), header, limits)
        if header is None and any(c.strip(TRIM) for c in rec):
            _check_width(p, len(rec), len(records) + 1, limits)
            header = [c.strip(TRIM) for c in rec]
        records.append(rec)
        line_no += len(last)
    _check_final_quote(p, last, line_no - len(last) + 1)
    start = next((i for i, r in enumerate(records) if any(c.strip(TRIM) for c in r)), None)
    if start is None or header is None:
        raise FileFormatError(f"{p}: 文件是空的,没有表头行", path=str(p))
    body = records[start + 1 :]
    # csv.reader yields [] for an empty line; keep it so row numbers stay those a spreadsheet shows
    numbers = np.arange(start + 2, start + 2 + len(body))
    return Cells(header, frame_from_rows(header, body, short_row_marks(header, body)), numbers)


def _unpaired(p: Path, line: int, span: int | None) -> FileFormatError:
    swallowed = f"从这一行起的 {span} 行被读成了同一个单元格" if span else "直到文件末尾也没有闭合"
    return FileFormatError(
        f'{p}: 文本第 {line} 行有一个半角双引号 " 没有配对:{swallowed};请删除多余的引号或补上缺的引号',
        path=str(p),
    )


def _check_quotes(
    p: Path, rec: list[str], line: int, span: int, header: list[str] | None, limits: Limits
) -> None:
    """A record over several lines: no cell may hold more line breaks than the limit, nor lines that look like
    rows of this file (half the header's commas or more): a stray `"` has swallowed them."""
    width = len(header) if header else len(rec)
    looks_like_row = max(3, (width - 1) // 2)
    for c in rec:
        breaks = c.count("\n") + c.count("\r") - c.count("\r\n")
        if breaks and (
            breaks > limits.quoted_lines or any(part.count(",") >= looks_like_row for part in c.splitlines())
        ):
            raise _unpaired(p, line, span)


def _check_final_quote(p: Path, last: list[str], line: int) -> None:
    """A quote still open at the end of the file: the csv module gives what it read as the last cell; read
    strictly, the last record says so."""
    if not last or '"' not in "".join(last):
        return
    try:
        for _ in csv.reader(iter(last), strict=True):
            pass
    except csv.Error as e:
        if "end of data" in str(e):
            raise _unpaired(p, line, None) from None


@contextmanager
def field_limit(chars: int) -> Iterator[None]:
    """The csv module's cell limit (a process-wide setting) for the duration of one read."""
    old = csv.field_size_limit(chars)
    try:
        yield
    finally:
        csv.field_size_limit(old)
