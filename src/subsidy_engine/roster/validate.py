"""Lazy validation of a raw roster (docs/specification.md §2): every problem of every row, then whole households accepted or not.

Each problem is one `Problem` (row number, column, value, reason code, message). A household is evaluated only
from a complete, valid set of rows: one bad row, a household field on which members disagree, or no / two 户主
rejects the whole household, and its innocent rows get `HOUSEHOLD_REJECTED`. accepted + rejected = rows read.
Columns are parsed once per distinct value (`cells.py`), so the cost follows the distinct values, not the rows.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from subsidy_engine.arrays import count_distinct
from subsidy_engine.roster import cells, checks, idcard
from subsidy_engine.roster.columns import NO_DATE, NO_MONEY, Parsed, Problems, parse_column
from subsidy_engine.roster.read import EXTRA, PROBLEMS, ROW, SHORT, RawRoster
from subsidy_engine.roster.reasons import TITLES, Reason
from subsidy_engine.roster.schema import BY_ALIAS, COLUMNS, Column

__all__ = ["NO_DATE", "NO_MONEY", "REASONS", "REJECT_COLUMNS", "Validated", "validate"]

PARALLEL_FROM_ROWS = 50_000  # below this, starting threads costs more than it saves
REJECT_COLUMNS = ["行号", "户编号", "证件号码", "姓名", "列", "值", "原因代码", "说明"]
_COLUMN_ORDER = {c.alias: i for i, c in enumerate(COLUMNS)}

REASONS: dict[str, str] = TITLES  # the title of each reason code (reasons.py)


@dataclass
class Validated:
    persons: pd.DataFrame  # accepted rows, typed columns (see columns.py), `_row`, sorted by input order
    rejects: pd.DataFrame  # one line per problem, REJECT_COLUMNS
    rows_read: int
    rows_rejected: int
    households_accepted: int
    households_rejected: int

    @property
    def rows_accepted(self) -> int:
        return len(self.persons)


def _parse_columns(f: pd.DataFrame) -> list[tuple[Parsed, Problems]]:
    """Each column parsed on its own, two at a time: pyarrow's kernels and numpy's indexing release the GIL,
    and each column keeps its own problems, merged in column order (the same order as one at a time)."""

    def one(col: Column) -> tuple[Parsed, Problems]:
        found = Problems()
        return parse_column(col, f[col.alias], found), found

    if len(f) < PARALLEL_FROM_ROWS:
        return [one(col) for col in COLUMNS]
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, COLUMNS))


def validate(raw: RawRoster) -> Validated:
    f = raw.frame
    n = len(f)
    problems = Problems()
    cols: dict[str, Parsed] = {}
    for col, (pc, found) in zip(COLUMNS, _parse_columns(f), strict=True):
        problems.extend(found)
        if col.required:
            for pos in np.flatnonzero(pc.blank):
                problems.add(pos, col.alias, "", Reason.REQUIRED, f"{col.name} 为必填项")
            pc.ok &= ~pc.blank
        cols[col.alias] = pc
    parsed = {a: c.values for a, c in cols.items()}
    ok = {a: c.ok for a, c in cols.items()}
    rows = f[ROW].to_numpy()

    ids = parsed["id_number"]
    id_text = cols["id_number"].arrow  # the trimmed texts as pyarrow strings: no conversion back
    id_column = idcard.IdColumn.of(id_text if id_text is not None else ids)
    lost = checks.check_ids(ids, ok, problems, id_column, cols["id_number"].numeric)
    checks.check_duplicates(ids, rows, problems, id_column, lost)
    checks.check_rows(parsed, ok, ids, problems, id_column, lost)
    if EXTRA in f:
        for pos in np.flatnonzero(f[EXTRA].notna().to_numpy()):
            problems.add(
                pos,
                EXTRA,
                str(f[EXTRA].iat[pos]),
                Reason.ROW_TOO_LONG,
                "本行的单元格比表头多,多出的内容无法对应到列",
            )
    hh = parsed["household_id"]
    checks.check_households(hh, cols, rows, f, problems)
    if PROBLEMS in f:
        _read_problems(f[PROBLEMS], problems)

    has_error = np.zeros(n, dtype=bool)
    has_error[np.array(problems.pos, dtype=np.int64)] = True
    hh_codes = cols["household_id"].codes
    bad_hh = (
        np.bincount(hh_codes, weights=has_error, minlength=hh_codes.max() + 1 if n else 0)[hh_codes] > 0
        if n
        else np.zeros(0, dtype=bool)
    )
    bad_hh |= cols["household_id"].blank
    for pos in np.flatnonzero(bad_hh & ~has_error):
        problems.add(
            pos,
            "household_id",
            "",
            Reason.HOUSEHOLD_REJECTED,
            f"同户(户编号 {hh[pos]})其他行有错误或户级问题,整户不予计算",
        )

    accepted = ~bad_hh
    every = bool(accepted.all())  # the common case: no copy of each column

    def kept(a: np.ndarray) -> np.ndarray:
        return a if every else a[accepted]

    data: dict[str, object] = {}
    for col in COLUMNS:
        pc = cols[col.alias]
        if pc.enum_codes is not None:
            data[col.alias] = pd.Categorical.from_codes(kept(pc.enum_codes), categories=list(col.values))
        else:
            data[col.alias] = pd.Series(kept(pc.values), dtype=pc.values.dtype, copy=False)
    data[ROW] = kept(rows)
    persons = pd.DataFrame(data, index=pd.RangeIndex(int(accepted.sum())), copy=False)
    rejects = _rejects_frame(problems, f, raw.headers)
    return Validated(
        persons=persons,
        rejects=rejects,
        rows_read=n,
        rows_rejected=int(bad_hh.sum()),
        households_accepted=count_distinct(hh_codes[accepted]),
        households_rejected=count_distinct(hh_codes[bad_hh & ~cols["household_id"].blank])
        + int((bad_hh & cols["household_id"].blank).any()),
    )


SHOWN_CHARS = 256  # a longer cell is cut in the rejects report (a 100k-character cell is not data to show)


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}…(共 {len(text)} 个字符)"


def _read_problems(column: pd.Series, problems: Problems) -> None:
    """The problems the reader found (a short row, an error cell): each replaces what validation said about
    the same cell (an error cell reads as blank, which is not what is wrong with it)."""
    values = column.to_numpy(dtype=object)
    found = [(pos, values[pos]) for pos in np.flatnonzero(~pd.isna(values)).tolist()]
    marked = {(pos, alias) for pos, v in found for alias, _, _, _ in v}
    keep = [i for i, pc in enumerate(zip(problems.pos, problems.col, strict=True)) if pc not in marked]
    if len(keep) < len(problems.pos):
        for name in ("pos", "col", "value", "code", "msg"):
            old = getattr(problems, name)
            setattr(problems, name, [old[i] for i in keep])
    for pos, v in found:
        for alias, value, code, msg in v:
            problems.add(pos, alias, value, code, msg)


_MARKERS = {EXTRA: "(多余单元格)", SHORT: "(缺少单元格)"}


def _rejects_frame(problems: Problems, f: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    if not problems.pos:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
    pos = np.array(problems.pos, dtype=np.int64)
    rows = f[ROW].to_numpy()[pos]

    def raw_text(alias: str) -> list[str]:
        vals = (
            f[alias].iloc[pos].to_numpy(dtype=object)
        )  # only the rows named: not the whole column as objects
        return ["" if cells.is_blank(v) else _clip(cells.as_text(v)) for v in vals]

    col_names = [
        _MARKERS[a] if a in _MARKERS else headers.get(a, BY_ALIAS[a].name if a in BY_ALIAS else "")
        for a in problems.col
    ]
    frame = pd.DataFrame(
        {
            "行号": rows,
            "户编号": raw_text("household_id"),
            "证件号码": raw_text("id_number"),
            "姓名": raw_text("name"),
            "列": [
                "" if c == Reason.HOUSEHOLD_REJECTED else n
                for c, n in zip(problems.code, col_names, strict=True)
            ],
            "值": [_clip(v) for v in problems.value],
            "原因代码": problems.code,
            "说明": problems.msg,
        }
    )
    order = [
        (_COLUMN_ORDER.get(a, 99) if c != Reason.HOUSEHOLD_REJECTED else 100)
        for a, c in zip(problems.col, problems.code, strict=True)
    ]
    frame["_o"] = order
    frame["_i"] = np.arange(len(frame))
    frame = frame.sort_values(["行号", "_o", "_i"], kind="stable").drop(columns=["_o", "_i"])
    return frame.reset_index(drop=True)
