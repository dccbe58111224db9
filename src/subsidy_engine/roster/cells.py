"""Parsing one roster cell of each kind (SPEC §2), from text or from a typed spreadsheet/Parquet cell.

Each parser returns the parsed value or raises `CellError(code, message)`; `validate.py` applies them once
per distinct value of a column, so a million rows cost as much as their distinct values.
Dates are day numbers (days since 1970-01-01), months are `year * 12 + month - 1`, money is integer fen.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

import numpy as np

EPOCH = dt.date(1970, 1, 1)
TRIM = " \t\r\n\u3000\u00a0\ufeff"

_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
_MONTH = re.compile(r"(\d{4})[-/](\d{1,2})")
_MONEY = re.compile(r"\d+(?:\.\d+)?")
_INT = re.compile(r"\d+(?:\.0+)?")
TRUE_WORDS = frozenset({"是", "y", "true", "1"})
FALSE_WORDS = frozenset({"否", "n", "false", "0"})


class CellError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return value.strip(TRIM) == ""
    try:
        return bool(value != value)  # NaT, pd.NA
    except (TypeError, ValueError):
        return False


def as_text(value: object) -> str:
    """A cell as the text a caseworker sees: integral numbers without `.0`, strings trimmed."""
    if isinstance(value, str):
        return value.strip(TRIM)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (np.integer, np.floating)):
        return as_text(value.item())
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip(TRIM)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def from_day_number(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def month_number(year: int, month: int) -> int:
    return year * 12 + month - 1


def month_text(n: int) -> str:
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def _typed_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    return None


def parse_date(value: object) -> int:
    typed = _typed_date(value)
    if typed is not None:
        return day_number(typed)
    text = as_text(value)
    m = _DATE.fullmatch(text)
    if not m:
        raise CellError("BAD_DATE", f"日期格式应为 YYYY-MM-DD 或 YYYY/MM/DD: {text!r}")
    try:
        return day_number(dt.date(int(m.group(1)), int(m.group(3)), int(m.group(4))))
    except ValueError:
        raise CellError("BAD_DATE", f"不是有效的日历日期: {text!r}") from None


def parse_month(value: object) -> int:
    typed = _typed_date(value)
    if typed is not None:
        return month_number(typed.year, typed.month)
    text = as_text(value)
    m = _MONTH.fullmatch(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise CellError("BAD_MONTH", f"月份格式应为 YYYY-MM 或 YYYY/MM: {text!r}")
    return month_number(int(m.group(1)), int(m.group(2)))


def parse_bool(value: object) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    text = as_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError("BAD_BOOL", f"应为 是/否 (Y/N, true/false, 1/0): {as_text(value)!r}")


def parse_money(value: object) -> int:
    """Yuan → integer fen, exactly; a numeric cell is read at the precision a spreadsheet shows (15 digits)."""
    if isinstance(value, bool):
        raise CellError("BAD_MONEY", f"金额应为数字: {value!r}")
    if isinstance(value, (int, np.integer)):
        amount = Decimal(int(value))
    elif isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            raise CellError("BAD_MONEY", f"金额应为数字: {value!r}")
        amount = Decimal(repr(f))
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            amount = Decimal(format(f, ".15g"))
    elif isinstance(value, Decimal):
        amount = value
    else:
        text = as_text(value)
        if text.startswith("-") and _MONEY.fullmatch(text[1:]):
            raise CellError("MONEY_NEGATIVE", f"金额不能为负数: {text!r}")
        if not _MONEY.fullmatch(text):
            raise CellError("BAD_MONEY", f"金额只能是数字和小数点(不带符号、千分位或货币符号): {text!r}")
        try:
            amount = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern above admits only decimals
            raise CellError("BAD_MONEY", f"金额应为数字: {text!r}") from None
    if amount < 0:
        raise CellError("MONEY_NEGATIVE", f"金额不能为负数: {as_text(value)!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise CellError("MONEY_PRECISION", f"金额最多两位小数: {as_text(value)!r}")
    return int(fen)


def parse_int(value: object) -> int:
    if isinstance(value, bool):
        raise CellError("BAD_INT", f"应为整数: {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    text = as_text(value)
    if not _INT.fullmatch(text):
        raise CellError("BAD_INT", f"应为整数: {text!r}")
    return int(text.split(".")[0])


def parse_enum(value: object, allowed: tuple[str, ...]) -> str:
    text = as_text(value)
    if text not in allowed:
        raise CellError("BAD_ENUM", f"{text!r} 不是允许的值 ({' / '.join(allowed)})")
    return text
