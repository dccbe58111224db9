"""Parsing each roster column once per distinct value into typed arrays (SPEC §2 value formats).

Dates are day numbers, months `year * 12 + month - 1`, money integer fen; a blank is `NO_DATE`, `NO_MONEY`, 0
or None. Every unreadable cell becomes a `Problem` with its reason code; nothing stops at the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cells
from .schema import Column

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
    codes: np.ndarray  # the same code for rows with the same parsed value (household comparison)
    enum_codes: np.ndarray | None = None  # int8 index into Column.values, -1 = blank or error


def _factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    values = series if isinstance(series.dtype, pd.StringDtype) else series.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _texts(series: pd.Series, upper: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(trimmed text per row with None for blank, blank mask, codes equal for equal texts)."""
    if isinstance(series.dtype, pd.StringDtype):
        sample = series.iloc[:10_000]
        few = (
            len(sample.unique()) <= len(sample) // 4
        )  # town, village, household: trim each distinct text once
        raw_codes, uniques = series.factorize(use_na_sentinel=True) if few else (None, [])
        if few and len(uniques) <= len(series) // 4:
            return _texts_by_value(
                np.asarray(raw_codes, dtype=np.int64), np.asarray(uniques, dtype=object), upper
            )
        s = series.str.strip(cells.TRIM)
        if upper:
            s = s.str.upper()
        blank = (s.isna() | (s == "")).to_numpy(dtype=bool)
        codes = np.asarray(s.factorize(use_na_sentinel=False)[0], dtype=np.int64)
        out = s.to_numpy(dtype=object, na_value=None)
        out[blank] = None
        return out, blank, codes
    raw_codes, uniques = _factorize(series)
    return _texts_by_value(raw_codes, uniques, upper)


def _texts_by_value(
    raw_codes: np.ndarray, uniques: np.ndarray, upper: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    texts = [cells.as_text(u) for u in uniques]
    lookup = np.array([(t.upper() if upper else t) or None for t in texts] + [None], dtype=object)
    text_codes = np.asarray(pd.factorize(lookup, use_na_sentinel=False)[0], dtype=np.int64)
    return (
        lookup[raw_codes],
        np.array([v is None for v in lookup], dtype=bool)[raw_codes],
        text_codes[raw_codes],
    )


def _kind_parser(col: Column) -> Callable[[object], object]:
    if col.kind == "enum":
        return lambda v: cells.parse_enum(v, col.values)
    return {
        "bool": cells.parse_bool,
        "date": cells.parse_date,
        "month": cells.parse_month,
        "money": cells.parse_money,
        "int": cells.parse_int,
    }[col.kind]


_BLANK_VALUE = {"date": NO_DATE, "month": NO_DATE, "money": NO_MONEY, "int": 0}


def parse_column(col: Column, series: pd.Series, problems: Problems) -> Parsed:
    n = len(series)
    if col.kind in ("text", "id"):
        values, blank, codes = _texts(series, upper=col.kind == "id" or col.alias == "disability_cert")
        return Parsed(values, np.ones(n, dtype=bool), blank, codes)
    raw_codes, uniques = _factorize(series)
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
    ok = u_ok[raw_codes]
    blank = u_blank[raw_codes]
    if errors:
        bad_u = np.array(sorted(errors), dtype=np.int64)
        for pos in np.flatnonzero(np.isin(raw_codes, bad_u)):
            err = errors[int(raw_codes[pos])]
            problems.add(pos, col.alias, cells.as_text(series.iat[pos]), err.code, err.message)
    value_codes, _ = pd.factorize(pd.Series(lookup, dtype=object), use_na_sentinel=False)
    codes = np.asarray(value_codes, dtype=np.int64)[raw_codes]
    enum_codes = None
    if col.kind == "enum":
        index: dict[object, int] = {v: i for i, v in enumerate(col.values)}
        enum_codes = np.array([index.get(v, -1) if v is not None else -1 for v in typed], dtype=np.int8)[
            raw_codes
        ]
    return Parsed(values, ok, blank, codes, enum_codes)
