"""Parsing each roster column once per distinct value into typed arrays (docs/specification.md §2 value formats).

Dates are day numbers, months `year * 12 + month - 1`, money integer fen; a blank is `NO_DATE`, `NO_MONEY`, 0
or None. Every unreadable cell becomes a `Problem` with its reason code; nothing stops at the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from subsidy_engine.arrays import arrow_codes, arrow_of, text_codes
from subsidy_engine.limits import max_amount_fen
from subsidy_engine.roster import cells
from subsidy_engine.roster.schema import Column

NO_DATE = np.iinfo(np.int64).max  # a blank date/month: never (death, risk end, certificate end, 低保 end)
NO_MONEY = -1


class Problems:
    """Every problem found, in the order found: (row position, column alias, value, reason code, message)."""

    def __init__(self) -> None:
        self.pos: list[int] = []
        self.col: list[str] = []
        self.value: list[str] = []
        self.code: list[str] = []
        self.msg: list[str] = []

    def extend(self, other: Problems) -> None:
        self.pos += other.pos
        self.col += other.col
        self.value += other.value
        self.code += other.code
        self.msg += other.msg

    def add(self, pos: int | np.integer, alias: str, value: str, code: str, msg: str) -> None:
        self.pos.append(int(pos))
        self.col.append(alias)
        self.value.append(value)
        self.code.append(code)
        self.msg.append(msg)


@dataclass
class Parsed:
    values: np.ndarray  # typed per row: text/enum object (None = blank); bool; int64 (NO_DATE / NO_MONEY / 0)
    ok: np.ndarray  # parsed without error
    blank: np.ndarray
    codes: (
        np.ndarray
    )  # the same code for rows with the same parsed value (household columns; empty for person text)
    enum_codes: np.ndarray | None = None  # int8 index into Column.values, -1 = blank or error
    arrow: pa.ChunkedArray | None = None  # person text columns: the trimmed texts as pyarrow strings
    numeric: np.ndarray | None = None  # 证件号码: rows whose cell was a spreadsheet number, not text


def _trimmed(arr: pa.Array | pa.ChunkedArray, upper: bool) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Texts trimmed (and upper-cased) by pyarrow: (arrow texts, object array with None for blank, blank mask)."""
    text = pc.utf8_trim(arr, cells.TRIM)
    if upper:
        text = pc.utf8_upper(text)
        if not pc.all(pc.string_is_ascii(text)).as_py():  # full-width digits (rare): read as ASCII
            plain = [None if t is None else cells.ascii_width(t) for t in text.to_pylist()]
            text = pa.chunked_array([pa.array(plain, type=text.type)])
    blank = pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False)
    out = text.to_numpy(zero_copy_only=False).astype(object, copy=False)
    out[blank] = None
    return text, out, blank


def _texts(
    series: pd.Series, upper: bool, codes_needed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.ChunkedArray | None, np.ndarray | None]:
    """(trimmed text per row with None for blank, blank mask, codes equal for equal texts, the trimmed texts
    as pyarrow strings for a person column, the rows whose cell was a float (None for a text column)).

    A household column (codes needed) is trimmed once per distinct value. A person column (name, 证件号码) is
    nearly all distinct: it is trimmed over the whole column and gets no codes (an empty array)."""
    arr = arrow_of(series)
    if arr is not None and not codes_needed:
        text, out, blank = _trimmed(arr, upper)
        return out, blank, np.zeros(0, dtype=np.int64), text, None
    if arr is not None:
        raw_codes, dictionary = arrow_codes(arr)
        text, texts, blank_u = _trimmed(dictionary, upper)
        # codes of the trimmed texts; blank and missing cells (raw code -1, the last slot) share one code
        same = np.append(np.where(blank_u, len(texts), arrow_codes(pa.chunked_array([text]))[0]), len(texts))
        lookup = np.empty(len(texts) + 1, dtype=object)  # the last slot: a missing cell (raw code -1)
        lookup[:-1] = texts
        return lookup[raw_codes], np.append(blank_u, True)[raw_codes], same[raw_codes], None, None
    raw_codes, uniques = text_codes(series)
    words = [cells.as_text(u) for u in uniques]
    lookup = np.array(
        [(cells.ascii_width(t.upper()) if upper else t) or None for t in words] + [None], dtype=object
    )
    same = np.asarray(pd.factorize(lookup, use_na_sentinel=False)[0], dtype=np.int64)
    floats = np.array([isinstance(u, float | np.floating) for u in uniques] + [False], dtype=bool)
    return (
        lookup[raw_codes],
        np.array([v is None for v in lookup], dtype=bool)[raw_codes],
        same[raw_codes],
        None,
        floats[raw_codes],
    )


def _kind_parser(col: Column) -> Callable[[object], object]:
    if col.kind == "enum":
        return lambda v: cells.parse_enum(v, col.values)
    if col.kind == "money":
        ceiling = max_amount_fen()  # the setting, read once per column
        return lambda v: cells.parse_money(v, ceiling)
    return {
        "bool": cells.parse_bool,
        "date": cells.parse_date,
        "month": cells.parse_month,
        "int": cells.parse_int,
    }[col.kind]


_BLANK_VALUE = {"date": NO_DATE, "month": NO_DATE, "money": NO_MONEY, "int": 0}


def parse_column(col: Column, series: pd.Series, problems: Problems) -> Parsed:
    n = len(series)
    if col.kind in ("text", "id"):
        upper = col.kind == "id" or col.alias == "disability_cert"
        values, blank, codes, text, floats = _texts(series, upper, codes_needed=col.level == "H")
        return Parsed(values, np.ones(n, dtype=bool), blank, codes, arrow=text, numeric=floats)
    raw_codes, uniques = text_codes(series)
    parse = _kind_parser(col)
    blank_value: object = col.default if col.kind == "bool" else _BLANK_VALUE.get(col.kind)
    typed: list[object] = []
    u_ok = np.ones(len(uniques) + 1, dtype=bool)
    u_blank = np.zeros(len(uniques) + 1, dtype=bool)
    u_blank[-1] = True  # raw code -1 (a missing cell) is the last slot
    errors: dict[int, cells.CellError] = {}
    for i, u in enumerate(uniques):
        if cells.is_blank(u):
            typed.append(blank_value)
            u_blank[i] = True
            continue
        try:
            typed.append(parse(u))
        except cells.CellError as e:
            errors[i] = e
            typed.append(blank_value)
            u_ok[i] = False
    typed.append(blank_value)
    dtype = {"bool": bool, "enum": object}.get(col.kind, np.int64)
    lookup = np.array(typed, dtype=dtype)
    values = lookup[raw_codes]
    ok = u_ok[raw_codes] if errors else np.ones(n, dtype=bool)
    blank = u_blank[raw_codes]
    if errors:
        bad_u = np.array(sorted(errors), dtype=np.int64)
        for pos in np.flatnonzero(np.isin(raw_codes, bad_u)):
            err = errors[int(raw_codes[pos])]
            problems.add(pos, col.alias, cells.as_text(series.iat[pos]), err.code, err.message)
    codes = np.zeros(0, dtype=np.int64)  # only household columns are compared across rows
    if col.level == "H":
        value_codes, _ = pd.factorize(pd.Series(lookup, dtype=object), use_na_sentinel=False)
        codes = np.asarray(value_codes, dtype=np.int64)[raw_codes]
    enum_codes = None
    if col.kind == "enum":
        index: dict[object, int] = {v: i for i, v in enumerate(col.values)}
        enum_codes = np.array([index.get(v, -1) if v is not None else -1 for v in typed], dtype=np.int8)[
            raw_codes
        ]
    return Parsed(values, ok, blank, codes, enum_codes)
