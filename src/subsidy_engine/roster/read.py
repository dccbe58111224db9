"""Reading a roster file (xlsx first sheet, CSV in UTF-8/UTF-8-BOM/GB18030, Parquet) into a raw frame.

The raw frame keeps every cell as the file gave it (text, or a typed spreadsheet/Parquet cell), one column per
known roster column under its English alias, plus `_row`: the row number a spreadsheet shows (header = row 1).
Blank lines are not rows. Header problems fail the whole file with one error.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from subsidy_engine.errors import FileFormatError, HeaderError
from subsidy_engine.roster.cells import TRIM
from subsidy_engine.roster.schema import COLUMNS, canonical

ROW = "_row"
EXTRA = "_extra_cells"


@dataclass
class RawRoster:
    frame: pd.DataFrame  # alias columns (object/str) + _row (+ _extra_cells when a CSV row was too long)
    headers: dict[str, str]  # alias -> header as written in the file
    source: str = "<records>"
    sha256: str = ""
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.frame)


def read_roster(path: str | Path) -> RawRoster:
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"{p}: 文件不存在", path=str(p))
    suffix = p.suffix.lower()
    readers = {
        ".xlsx": _read_xlsx,
        ".xlsm": _read_xlsx,
        ".csv": _read_csv,
        ".txt": _read_csv,
        ".parquet": _read_parquet,
    }
    if suffix not in readers:
        raise FileFormatError(f"{p}: 不支持的文件类型 {suffix!r}(支持 .xlsx / .csv / .parquet)", path=str(p))
    raw = p.read_bytes()  # read once: hashed here, parsed from memory
    header, frame, numbers = readers[suffix](p, raw)
    return _finish(header, frame, numbers, source=str(p), sha=hashlib.sha256(raw).hexdigest())


def roster_from_records(records: list[dict[str, object]], source: str = "<records>") -> RawRoster:
    """A roster given as dicts (tests, the web form): header = the keys of the first record, in order."""
    header: list[str] = []
    for rec in records:
        for k in rec:
            if k not in header:
                header.append(k)
    rows = [[rec.get(k) for k in header] for rec in records]
    numbers = np.arange(2, len(rows) + 2)
    return _finish(header, _frame_from_rows(header, rows), numbers, source=source, sha="")


# --- formats ------------------------------------------------------------------------------------------------


def _read_xlsx(p: Path, raw: bytes) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        sheet = wb.get_sheet_by_index(0)
        data = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own types for every kind of broken file
        raise FileFormatError(
            f"{p}: 无法读取为 Excel 工作簿({type(exc).__name__}: {exc})", path=str(p)
        ) from None
    start = next((i for i, r in enumerate(data) if any(not _blank(c) for c in r)), None)
    if start is None:
        raise FileFormatError(f"{p}: 第一个工作表是空的,没有表头行", path=str(p))
    header = ["" if _blank(c) else str(c).strip(TRIM) for c in data[start]]
    body = data[start + 1 :]
    numbers = np.arange(start + 2, start + 2 + len(body))
    return header, _frame_from_rows(header, body), numbers


def _decode(raw: bytes, p: Path) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, else GB18030."""
    for encoding, body in (("utf-8", raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw), ("gb18030", raw)):
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileFormatError(f"{p}: 编码无法识别(应为 UTF-8 或 GB18030)", path=str(p))


def _read_csv(p: Path, raw: bytes) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    head = raw[:4096]
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or head.count(b"\x00") > len(head) // 100:
        hint = (
            "(像是 Excel 文件,请用 .xlsx 扩展名)"
            if head.startswith(b"PK")
            else "(含二进制内容或为 UTF-16 编码)"
        )
        raise FileFormatError(f"{p}: 不是文本 CSV 文件{hint}", path=str(p))
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    fast = _read_csv_arrow(data)  # pyarrow checks the UTF-8 itself
    if fast is not None:
        return fast
    text, encoding = _decode(raw, p)
    if encoding == "gb18030":
        fast = _read_csv_arrow(text.encode("utf-8"))  # re-encoded for pyarrow
        if fast is not None:
            return fast
    records = list(csv.reader(io.StringIO(text, newline="")))
    start = next((i for i, r in enumerate(records) if any(c.strip(TRIM) for c in r)), None)
    if start is None:
        raise FileFormatError(f"{p}: 文件是空的,没有表头行", path=str(p))
    header = [c.strip(TRIM) for c in records[start]]
    body = records[start + 1 :]
    # csv.reader yields [] for an empty line; keep it so row numbers stay those a spreadsheet shows
    numbers = np.arange(start + 2, start + 2 + len(body))
    return header, _frame_from_rows(header, body), numbers


def _read_csv_arrow(data: bytes) -> tuple[list[str], pd.DataFrame, np.ndarray] | None:
    """The fast path (pyarrow) for well-formed UTF-8 whose header is its first line and which has no empty
    line and no row of another width; anything else goes the careful way (csv module) to keep row numbers."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    end = data.find(b"\n")
    try:
        first = data[: end if end >= 0 else len(data)].decode("utf-8")
    except UnicodeDecodeError:
        return None
    reader = csv.reader([first])
    header = next(reader, [])
    if first.count('"') % 2 or not any(c.strip(TRIM) for c in header) or len(header) < 2:
        return None
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names},  # what pandas `str` holds: no copy
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # invalid UTF-8, an empty line, a short/long row
        return None
    frame = pd.DataFrame({i: table.column(i).to_pandas() for i in range(len(names))})
    return [c.strip(TRIM) for c in header], frame, np.arange(2, len(frame) + 2)


def _read_parquet(p: Path, raw: bytes) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(raw))
    except Exception as exc:
        raise FileFormatError(f"{p}: 无法读取为 Parquet 文件({type(exc).__name__})", path=str(p)) from None
    header = [str(c).strip(TRIM) for c in table.column_names]
    frame = table.to_pandas(types_mapper=None)
    frame.columns = pd.Index(range(len(header)))
    return header, typed_cells_as_objects(frame), np.arange(2, len(frame) + 2)


def typed_cells_as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet columns that are not text (numbers, dates, booleans) as Python objects, None for a missing
    cell: validation parses such typed cells one by one, as it does a spreadsheet's."""
    for c in frame.columns:
        if frame[c].dtype != object and not isinstance(frame[c].dtype, pd.StringDtype):
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


# --- shared -------------------------------------------------------------------------------------------------

_SPACE = re.compile(f"^[{re.escape(TRIM)}]*$")


def _blank(c: object) -> bool:
    return (
        c is None or (isinstance(c, str) and _SPACE.match(c) is not None) or (isinstance(c, float) and c != c)
    )


def _frame_from_rows(header: list[str], rows: Sequence[Sequence[object]]) -> pd.DataFrame:
    width = len(header)
    fixed: list[list[object]] = []
    extra: list[object] = []
    any_extra = False
    for r in rows:
        r = list(r)
        if len(r) > width:
            tail = [c for c in r[width:] if not _blank(c)]
            extra.append(",".join(str(c) for c in tail) if tail else None)
            any_extra = any_extra or bool(tail)
            r = r[:width]
        else:
            extra.append(None)
            r = r + [None] * (width - len(r))
        fixed.append(r)
    frame = pd.DataFrame(fixed, columns=pd.Index(range(width)), dtype=object)
    if any_extra:
        frame[EXTRA] = pd.Series(extra, dtype=object)
    return frame


def header_map(header: list[str], source: str) -> tuple[dict[str, str], list[str], dict[int, str]]:
    """(alias → header as written, every known column; ignored headers; file column index → alias).

    Refuses a column named twice (户编号 and household_id) and a missing required column."""
    seen: dict[str, str] = {}
    take: dict[int, str] = {}
    ignored: list[str] = []
    for i, h in enumerate(header):
        col = canonical(h) if h else None
        if col is None:
            if h:
                ignored.append(h)
            continue
        if col.alias in seen:
            raise HeaderError(
                f"{source}: 表头重复: {seen[col.alias]!r} 与 {h!r} 指同一列 {col.name}({col.alias})",
                path=source,
                columns=(seen[col.alias], h),
            )
        seen[col.alias] = h
        take[i] = col.alias
    missing = [c for c in COLUMNS if c.required and c.alias not in seen]
    if missing:
        names = "、".join(f"{c.name}({c.alias})" for c in missing)
        raise HeaderError(
            f"{source}: 缺少必需的列: {names}", path=source, columns=tuple(c.name for c in missing)
        )
    for c in COLUMNS:
        seen.setdefault(c.alias, c.name)
    return seen, ignored, take


def blank_rows(columns: Sequence[pd.Series]) -> np.ndarray:
    """Rows whose every cell is blank, tested column by column on the rows still blank so far."""
    n = len(columns[0]) if columns else 0
    candidates = np.arange(n)
    for col in columns:
        if len(candidates) == 0:
            break
        sub = col.iloc[candidates]
        if isinstance(sub.dtype, pd.StringDtype):
            still = (sub.isna() | (sub.str.strip(TRIM) == "")).to_numpy(dtype=bool)
        else:
            still = np.fromiter((_blank(c) for c in sub.to_numpy(dtype=object)), dtype=bool, count=len(sub))
        candidates = candidates[still]
    blank = np.zeros(n, dtype=bool)
    blank[candidates] = True
    return blank


def raw_frame(cells: pd.DataFrame, take: dict[int, str], numbers: np.ndarray) -> pd.DataFrame:
    """The frame validation reads: one column per alias (None where the file has none), the extra cells of
    too-long rows, the spreadsheet row number `_row`; blank rows dropped."""
    data: dict[str, object] = {alias: cells[i] for i, alias in take.items()}
    for c in COLUMNS:
        if c.alias not in data:
            data[c.alias] = pd.Series([None] * len(cells), index=cells.index, dtype=object)
    if EXTRA in cells:
        data[EXTRA] = cells[EXTRA]
    data[ROW] = pd.Series(numbers, index=cells.index)
    out = pd.DataFrame(data, index=cells.index, copy=False)
    blank = blank_rows([cells[c] for c in cells.columns])
    return out.loc[~blank].reset_index(drop=True) if blank.any() else out


def _finish(
    header: list[str], frame: pd.DataFrame, numbers: np.ndarray, *, source: str, sha: str
) -> RawRoster:
    seen, ignored, take = header_map(header, source)
    out = raw_frame(frame, take, numbers)
    return RawRoster(frame=out, headers=seen, source=source, sha256=sha, ignored_columns=ignored)
