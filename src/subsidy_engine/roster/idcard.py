"""公民身份号码 (GB 11643-1999): shape, birth date and the ISO 7064 MOD 11-2 check character.

`IdColumn` checks a whole column with numpy; `id_problem` explains one number in words (a number Excel stored as
a number, in scientific notation, a 15-digit old number, separators, letters, a wrong check character).
Birth date is digits 7–14, sex is the parity of digit 17 (odd = male).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from subsidy_engine.roster.cells import quoted
from subsidy_engine.roster.reasons import Reason

Numbers: TypeAlias = np.ndarray | pa.Array | pa.ChunkedArray  # normalized numbers: objects or pyarrow strings

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = "10X98765432"
MIN_BIRTH = dt.date(1900, 1, 1)


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * int(w) for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


_SCIENTIFIC = re.compile(r"[0-9]+(?:\.[0-9]*)?E[+-]?[0-9]+")
_SEPARATORS = " \t\u00a0\u3000-‐‑‒–—_"
_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
LOST_TO_EXCEL = (
    "证件号码被 Excel 存成了数字(科学计数法,如 5.00119E+17),15位以后的数字已丢失:"
    "请把该列设为“文本”格式,再按原件重新录入"
)


def id_problem(number: str, numeric: bool = False) -> tuple[str, str] | None:
    """(reason code, message) for an invalid number, or None when it is valid. `number` is trimmed and
    upper-cased; `numeric`: the cell was a spreadsheet number, not text. The message says what is wrong in
    words a caseworker can act on and never repeats the whole number (the value column has it)."""
    if numeric or _SCIENTIFIC.fullmatch(number):
        return Reason.ID_FORMAT, LOST_TO_EXCEL
    if len(number) != 18 or not _NUMBER.fullmatch(number):
        return Reason.ID_FORMAT, _shape_problem(number)
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return Reason.ID_BIRTH_DATE, f"证件号码中的出生日期 {number[6:14]} 不是有效日期"
    if born < MIN_BIRTH:
        return Reason.ID_BIRTH_DATE, f"证件号码中的出生日期 {number[6:14]} 早于1900年"
    expected = check_char(number[:17])
    if expected != number[17]:
        return Reason.ID_CHECKSUM, f"证件号码有误,请核对原件(校验位错误:按前17位应为 {expected})"
    return None


def _shape_problem(number: str) -> str:
    """Why a number is not 17 digits and a digit or X, most actionable reason first."""
    joined = "".join(c for c in number if c not in _SEPARATORS)
    if joined != number and joined.isascii() and (_NUMBER.fullmatch(joined) or joined.isdigit()):
        size = "" if len(joined) == 18 else f",去掉后为 {len(joined)} 位(应为18位)"
        return f"证件号码中间夹有空格或“-”,请删去分隔符,只留连续的号码{size}"
    if len(number) == 15 and number.isascii() and number.isdigit():
        return "这是15位的旧版身份证号码,请按第二代身份证或户口簿换录18位号码"
    if not any(c.isdigit() for c in number):
        return f"证件号码栏没有号码(填的是 {quoted(number, 12)}),请按原件填写18位号码"
    odd_digits = _few(c for c in number if c.isdigit() and not c.isascii())
    if odd_digits:
        return f"证件号码含非标准的数字字符 {odd_digits},请用半角数字 0–9 重新录入"
    letters = _few(c for i, c in enumerate(number) if c.isascii() and c.isalpha() and (c, i) != ("X", 17))
    if letters:
        return (
            f"证件号码含字母 {letters}(只有第18位可以是 X),请核对原件:"
            "常见的是把数字 0 录成字母 O、把 1 录成 I 或 L"
        )
    others = _few(c for c in number if not (c.isascii() and (c.isdigit() or c == "X")))
    if others:
        return f"证件号码含数字以外的字符 {others},请删去后核对"
    return f"证件号码应为18位(17位数字加数字或X),实为 {len(number)} 位"


def _few(chars: Iterable[str], most: int = 3) -> str:
    """The first few distinct characters, each quoted ('O'、'I'), for a message."""
    seen: list[str] = []
    for c in chars:
        if c not in seen:
            seen.append(c)
            if len(seen) == most:
                break
    return "、".join(repr(c) for c in seen)


def _digit_matrix(numbers: Numbers) -> tuple[np.ndarray, np.ndarray]:
    """(rows that are 18 ASCII characters, their k×18 uint8 matrix of character codes), via pyarrow."""
    arr = (
        numbers
        if isinstance(numbers, pa.Array | pa.ChunkedArray)
        else pa.array(np.asarray(numbers, dtype=object), type=pa.string(), from_pandas=True)
    )
    sized_arr = pc.and_(pc.equal(pc.binary_length(arr), 18), pc.string_is_ascii(arr)).fill_null(False)
    sized = np.asarray(sized_arr, dtype=bool)
    chosen = (
        pc.filter(arr, sized_arr).combine_chunks()
        if isinstance(arr, pa.ChunkedArray)
        else pc.filter(arr, sized_arr)
    )
    width = np.int64 if pa.types.is_large_string(chosen.type) else np.int32
    offsets = np.frombuffer(chosen.buffers()[1], dtype=width)[chosen.offset : chosen.offset + len(chosen) + 1]
    data = np.frombuffer(chosen.buffers()[2], dtype=np.uint8) if len(chosen) else np.zeros(0, dtype=np.uint8)
    flat = data[offsets[0] : offsets[-1]] if len(chosen) else data
    return sized, flat.reshape(-1, 18)


@dataclass
class IdColumn:
    """One pass over a column of normalized numbers: the 18-character ones as a matrix of character codes,
    checked and keyed from it (each derived array computed once)."""

    sized: np.ndarray  # per row: 18 ASCII characters
    chars: np.ndarray  # k×18 uint8, one row per sized row

    @classmethod
    def of(cls, numbers: Numbers) -> IdColumn:
        return cls(*_digit_matrix(numbers))

    @functools.cached_property
    def well_formed(self) -> np.ndarray:
        """Per sized row: 17 digits and a digit or X (a character below '0' wraps round above 9)."""
        d = self.chars - np.uint8(ord("0"))
        return (d[:, :17] <= 9).all(axis=1) & ((d[:, 17] <= 9) | (self.chars[:, 17] == ord("X")))

    def _digits(self, a: int, b: int, dtype: type = np.int32) -> np.ndarray:
        return self.chars[:, a:b].astype(dtype) - ord("0")

    @functools.cached_property
    def ymd(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(year, month, day) of the birth dates, per sized row."""
        d = self._digits(6, 14, np.int64)
        return d[:, :4] @ np.array([1000, 100, 10, 1]), d[:, 4] * 10 + d[:, 5], d[:, 6] * 10 + d[:, 7]

    def valid(self) -> np.ndarray:
        """Per sized row: shape, birth date (a real date, not before 1900) and check character."""
        year, month, day = self.ymd
        leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
        mdays = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)]
        mdays = mdays + ((month == 2) & leap)
        date_ok = (year >= 1900) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= mdays)
        total = self._digits(0, 17) @ WEIGHTS.astype(np.int32)
        expected = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)[total % 11]
        return self.well_formed & date_ok & (expected == self.chars[:, 17])

    def keys(self) -> np.ndarray:
        """Per sized row: the number as one integer (17 digits, then the check value, X = 10); among
        well-formed rows, equal keys are equal numbers."""
        last = self.chars[:, 17].astype(np.int64) - ord("0")
        last = np.where(self.chars[:, 17] == ord("X"), 10, last)
        return (self._digits(0, 17, np.int64) @ (10 ** np.arange(16, -1, -1, dtype=np.int64))) * 11 + last


def _ymd(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of the birth dates in a k×18 character matrix."""
    d = m[:, 6:14].astype(np.int64) - ord("0")
    return d[:, :4] @ np.array([1000, 100, 10, 1]), d[:, 4] * 10 + d[:, 5], d[:, 6] * 10 + d[:, 7]


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates, in integer arithmetic (H. Hinnant's algorithm)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _birth_days(m: np.ndarray) -> np.ndarray:
    return days_from_civil(*_ymd(m))


def birth_parts(numbers: Numbers) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(birth day numbers, birth year, birth month * 100 + day, male?) of valid, normalized numbers."""
    if len(numbers) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=bool)
    _, m = _digit_matrix(numbers)
    year, month, day = _ymd(m)
    return days_from_civil(year, month, day), year, month * 100 + day, (m[:, 16] - ord("0")) % 2 == 1
