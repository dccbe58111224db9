"""The cells of a roster file as a reader gives them: header, one frame column per file column, row numbers,
and what the reader found wrong with single rows or cells (too long, too short, an error value in a cell).

A problem found while reading is kept with its row, in the object column `_read_problems`: a tuple of
(column, value, reason code, message), where column is the file column's index (turned into the roster alias
once the header is known) or a marker such as `SHORT` for what belongs to no one column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from subsidy_engine.errors import HeaderError
from subsidy_engine.roster.cells import TRIM
from subsidy_engine.roster.reasons import Reason
from subsidy_engine.roster.schema import COLUMNS, canonical

ROW = "_row"
EXTRA = "_extra_cells"  # the non-blank cells past the header's width, joined by commas
PROBLEMS = "_read_problems"
SHORT = "_missing_cells"  # the marker column of ROW_TOO_SHORT

Mark = tuple[int | str, str, str, str]  # (file column index or marker, value, reason code, message)


@dataclass
class Cells:
    header: list[str]
    frame: pd.DataFrame  # columns 0..n-1 (file column index), + EXTRA / PROBLEMS when some row has them
    numbers: np.ndarray  # the spreadsheet row number of each frame row
    note: str = ""  # added to a header error (a workbook: the sheets it has)


_SPACE = re.compile(f"^[{re.escape(TRIM)}]*$")


def blank(c: object) -> bool:
    return (
        c is None or (isinstance(c, str) and _SPACE.match(c) is not None) or (isinstance(c, float) and c != c)
    )


def frame_from_rows(
    header: list[str], rows: Sequence[Sequence[object]], marks: Mapping[int, list[Mark]] | None = None
) -> pd.DataFrame:
    """Rows of cells as a frame of the header's width: longer rows keep their extra cells in EXTRA, shorter
    ones are padded; `marks` (row index → problems) become the PROBLEMS column."""
    width = len(header)
    fixed: list[list[object]] = []
    extra: list[object] = []
    any_extra = False
    for r in rows:
        r = list(r)
        if len(r) > width:
            tail = [c for c in r[width:] if not blank(c)]
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
    if marks:
        found: list[object] = [None] * len(frame)
        for i, m in marks.items():
            found[i] = tuple(m)
        frame[PROBLEMS] = pd.Series(found, dtype=object)
    return frame


def short_row_marks(header: list[str], rows: Sequence[Sequence[object]]) -> dict[int, list[Mark]]:
    """ROW_TOO_SHORT for each non-blank row with fewer cells than the header has up to its last named column
    (a row cut off before its last cells); trailing blank cells written out are fine."""
    named = [i for i, h in enumerate(header) if h]
    needed = named[-1] + 1 if named else 0
    marks: dict[int, list[Mark]] = {}
    for i, r in enumerate(rows):
        if 0 < len(r) < needed and not all(blank(c) for c in r):
            missing = [h for h in header[len(r) : needed] if h]
            shown = "、".join(missing[:5]) + (f" 等 {len(missing)} 列" if len(missing) > 5 else "")
            marks[i] = [
                (
                    SHORT,
                    f"{len(r)} 个单元格",
                    Reason.ROW_TOO_SHORT,
                    f"本行只有 {len(r)} 个单元格,比表头少,{shown} 没有对应的单元格(行尾被截断或少了逗号)",
                )
            ]
    return marks


def alias_marks(column: pd.Series, take: Mapping[int, str]) -> np.ndarray:
    """The PROBLEMS column with file column indexes turned into aliases; problems in columns the roster does
    not use are dropped (None where nothing is left). Only the rows that have problems are looked at."""
    values = column.to_numpy(dtype=object)
    out = np.full(len(values), None, dtype=object)
    for i in np.flatnonzero(~pd.isna(values)).tolist():
        kept = tuple(
            (take[c] if isinstance(c, int) else c, value, code, msg)
            for c, value, code, msg in values[i]
            if not isinstance(c, int) or c in take
        )
        out[i] = kept or None
    return out


def column_label(header: Sequence[str], j: int) -> str:
    """A file column as a message names it: ` 姓名(第 12 列)`, or `第 30 列` past the header."""
    name = header[j] if j < len(header) and header[j] else ""
    return f" {name[:40]}(第 {j + 1} 列)" if name else f"第 {j + 1} 列"


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
                ignored.append(h if len(h) <= 100 else h[:100] + "…")
            continue
        if col.alias in seen:
            raise HeaderError(
                f"{source}: 表头重复: {seen[col.alias][:40]!r} 与 {h[:40]!r} 指同一列 {col.name}({col.alias})",
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
