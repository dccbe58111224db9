"""Reading a roster file (xlsx first sheet, CSV in UTF-8/UTF-8-BOM/GB18030, Parquet) into a raw frame.

The raw frame keeps every cell as the file gave it (text, or a typed spreadsheet/Parquet cell), one column per
known roster column under its English alias, plus `_row`: the row number a spreadsheet shows (header = row 1).
Blank lines are not rows. Header problems fail the whole file with one error, and so does a file beyond the
limits of `limits.py` (size, rows, columns, cell length, decompressed size), before it is parsed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from subsidy_engine import limits as limits_mod
from subsidy_engine.errors import FileFormatError, HeaderError
from subsidy_engine.limits import size_text
from subsidy_engine.roster.cellgrid import (
    EXTRA,
    PROBLEMS,
    ROW,
    SHORT,
    Cells,
    alias_marks,
    frame_from_rows,
    header_map,
)
from subsidy_engine.roster.cellgrid import blank as _blank
from subsidy_engine.roster.cells import TRIM
from subsidy_engine.roster.csv_read import read_csv
from subsidy_engine.roster.parquet_read import read_parquet, typed_cells_as_objects
from subsidy_engine.roster.schema import COLUMNS

__all__ = [
    "EXTRA",
    "PROBLEMS",
    "ROW",
    "SHORT",
    "RawRoster",
    "header_map",
    "raw_frame",
    "read_roster",
    "roster_from_records",
    "typed_cells_as_objects",
]


@dataclass
class RawRoster:
    frame: (
        pd.DataFrame
    )  # alias columns (object/str) + _row (+ _extra_cells / _read_problems when a row has them)
    headers: dict[str, str]  # alias -> header as written in the file
    source: str = "<records>"
    sha256: str = ""
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.frame)


def _read_xlsx(p: Path, raw: bytes, lim: limits_mod.Limits) -> Cells:
    from subsidy_engine.roster.xlsx_read import read_xlsx  # late: start-up, xlsx reader

    return read_xlsx(p, raw, lim)


READERS = {
    ".xlsx": _read_xlsx,
    ".xlsm": _read_xlsx,
    ".csv": read_csv,
    ".txt": read_csv,
    ".parquet": read_parquet,
}


def read_roster(path: str | Path) -> RawRoster:
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"{p}: 文件不存在", path=str(p))
    suffix = p.suffix.lower()
    if suffix not in READERS:
        raise FileFormatError(f"{p}: 不支持的文件类型 {suffix!r}(支持 .xlsx / .csv / .parquet)", path=str(p))
    lim = limits_mod.current()
    with p.open("rb") as f:  # read once: hashed here, parsed from memory
        raw = f.read() if suffix == ".parquet" else f.read(lim.input_bytes + 1)
    if len(raw) > lim.input_bytes and suffix != ".parquet":
        raise FileFormatError(
            f"{p}: 文件超过 {size_text(lim.input_bytes)}(SUBSIDY_MAX_INPUT_BYTES),.xlsx/.csv 不能一次读入;"
            "更大的花名册请转为 Parquet 格式,用 --engine dask 计算",
            path=str(p),
        )
    cells = READERS[suffix](p, raw, lim)
    return _finish(cells, source=str(p), sha=hashlib.sha256(raw).hexdigest())


def roster_from_records(records: list[dict[str, object]], source: str = "<records>") -> RawRoster:
    """A roster given as dicts (tests, the web form): header = the keys of the first record, in order."""
    header: list[str] = []
    for rec in records:
        for k in rec:
            if k not in header:
                header.append(k)
    rows = [[rec.get(k) for k in header] for rec in records]
    numbers = np.arange(2, len(rows) + 2)
    return _finish(Cells(header, frame_from_rows(header, rows), numbers), source=source, sha="")


# --- shared -------------------------------------------------------------------------------------------------


def blank_rows(columns: Sequence[pd.Series]) -> np.ndarray:
    """Rows whose every cell is blank, tested column by column on the rows still blank so far."""
    n = len(columns[0]) if columns else 0
    candidates = np.arange(n)
    for col in columns:
        if len(candidates) == 0:
            break
        sub = col if len(candidates) == n else col.iloc[candidates]  # the first column: no copy
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
    too-long rows and the problems found while reading, the spreadsheet row number `_row`; blank rows dropped."""
    data: dict[str, object] = {alias: cells[i] for i, alias in take.items()}
    for c in COLUMNS:
        if c.alias not in data:
            data[c.alias] = pd.Series([None] * len(cells), index=cells.index, dtype=object)
    if EXTRA in cells:
        data[EXTRA] = cells[EXTRA]
    if PROBLEMS in cells:  # file column indexes → aliases, before the blank test: ignored columns drop out
        cells[PROBLEMS] = pd.Series(alias_marks(cells[PROBLEMS], take), index=cells.index, dtype=object)
        data[PROBLEMS] = cells[PROBLEMS]
    data[ROW] = pd.Series(numbers, index=cells.index)
    out = pd.DataFrame(data, index=cells.index, copy=False)
    blank = blank_rows([cells[c] for c in cells.columns])
    return drop_rows(out, blank) if blank.any() else out


def drop_rows(frame: pd.DataFrame, drop: np.ndarray) -> pd.DataFrame:
    """The frame without the rows in `drop`, index 0..n-1. Text columns held by pyarrow keep their buffers (the
    runs of kept rows as slices of one chunked array), so a few dropped rows cost in proportion to themselves,
    not a copy of every string of the roster; other columns are indexed as usual (pointers, not strings)."""
    keep = ~drop
    edges = np.flatnonzero(np.diff(np.r_[0, keep.view(np.int8), 0]))
    runs = list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))
    index = pd.RangeIndex(int(keep.sum()))
    data: dict[object, pd.Series] = {}
    plans: dict[tuple[int, ...], list[tuple[int, int, int]]] = {}  # by chunk layout (pyarrow's: one for all)
    for name in frame.columns:
        col = frame[name]
        arr = col.array
        if isinstance(arr, pd.arrays.ArrowStringArray):
            whole = arr._pa_array  # the pyarrow array behind the column (no public accessor)
            chunks = whole.chunks  # a new list at each call
            lengths = tuple(len(c) for c in chunks)
            plan = plans[lengths] if lengths in plans else plans.setdefault(lengths, _run_plan(lengths, runs))
            parts = [chunks[c].slice(a, n) for c, a, n in plan]  # arrays: chunked ones would be copied
            kept = type(arr)(pa.chunked_array(parts, type=whole.type), dtype=col.dtype)
            data[name] = pd.Series(kept, index=index, name=name, copy=False)
        else:
            data[name] = pd.Series(arr[keep], index=index, name=name, copy=False)
    return pd.DataFrame(data, index=index, copy=False)


def _run_plan(lengths: Sequence[int], runs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The runs of rows [a, b) as (chunk, offset, length) slices of chunks of these lengths."""
    bounds = np.r_[0, np.cumsum(lengths, dtype=np.int64)].tolist()
    plan: list[tuple[int, int, int]] = []
    for a, b in runs:
        c = int(np.searchsorted(bounds, a, side="right")) - 1
        while a < b:
            n = min(b, bounds[c + 1]) - a
            if n > 0:
                plan.append((c, a - bounds[c], n))
            a, c = a + n, c + 1
    return plan


def _finish(cells: Cells, *, source: str, sha: str) -> RawRoster:
    try:
        seen, ignored, take = header_map(cells.header, source)
    except HeaderError as e:
        if not cells.note:
            raise
        raise HeaderError(f"{e}{cells.note}", path=e.path, columns=e.columns) from None
    out = raw_frame(cells.frame, take, cells.numbers)
    return RawRoster(frame=out, headers=seen, source=source, sha256=sha, ignored_columns=ignored)
