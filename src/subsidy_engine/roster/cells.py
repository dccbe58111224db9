"""Parsing one roster cell of each kind (docs/specification.md §2), from text or from a typed spreadsheet/Parquet cell.

Each parser returns the parsed value or raises `CellError(code, message)`; `validate.py` applies them once
per distinct value of a column, so a million rows cost as much as their distinct values.
Dates are day numbers (days since 1970-01-01), months are `year * 12 + month - 1`, money is integer fen.
Digits are ASCII 0-9 only; full-width ones (０-９, as Chinese input methods type them) are read as ASCII, any
other script's digits (Arabic-Indic, mathematical, superscript) are not numbers.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

import numpy as np

from subsidy_engine import money
from subsidy_engine.limits import max_amount_fen
from subsidy_engine.roster.reasons import Reason

EPOCH = dt.date(1970, 1, 1)
TRIM = " \t\r\n\u3000\u00a0\ufeff"

_DATE = re.compile(r"([0-9]{4})([-/])([0-9]{1,2})\2([0-9]{1,2})")
_MONTH = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})")
_MONEY = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_INT = re.compile(r"[0-9]+(?:\.0+)?")
INT_DIGITS = 9  # an integer cell (年级) longer than this is out of range, not a number to compute with
MONEY_DIGITS = 16  # whole yuan digits past which no ceiling applies (ceilings.HIGHEST_YUAN has 16)
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # ！..～ → !..~ (NFKC of this block only)
TRUE_WORDS = frozenset({"是", "y", "true", "1"})
FALSE_WORDS = frozenset({"否", "n", "false", "0"})


class CellError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def ascii_width(text: str) -> str:
    """Full-width ASCII forms (０-９, ．, －, ／, Ｙ…) as ASCII; every other character unchanged."""
    return text if text.isascii() else text.translate(_FULL_WIDTH)


def quoted(text: str, limit: int = 64) -> str:
    """A cell's text for a message: quoted, and cut after `limit` characters (the value column has it whole)."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}…(共 {len(text)} 个字符)"


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
    if isinstance(value, int) and value.bit_length() > 9000:  # str() refuses past 4,300 digits
        return f"(超过 2700 位的整数,共 {value.bit_length()} 位二进制)"
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


def _typed(value: object, code: str) -> dt.date | None:
    try:
        return _typed_date(value)
    except (ValueError, OverflowError):  # a datetime64 outside the years 1–9999
        raise CellError(code, f"日期超出可处理的范围: {quoted(as_text(value))}") from None


def parse_date(value: object) -> int:
    typed = _typed(value, Reason.BAD_DATE)
    if typed is not None:
        return day_number(typed)
    text = as_text(value)
    m = _DATE.fullmatch(ascii_width(text))
    if not m:
        raise CellError(Reason.BAD_DATE, f"日期格式应为 YYYY-MM-DD 或 YYYY/MM/DD: {quoted(text)}")
    try:
        return day_number(dt.date(int(m.group(1)), int(m.group(3)), int(m.group(4))))
    except ValueError:
        raise CellError(Reason.BAD_DATE, f"不是有效的日历日期: {quoted(text)}") from None


def parse_month(value: object) -> int:
    typed = _typed(value, Reason.BAD_MONTH)
    if typed is not None:
        return month_number(typed.year, typed.month)
    text = as_text(value)
    m = _MONTH.fullmatch(ascii_width(text))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise CellError(Reason.BAD_MONTH, f"月份格式应为 YYYY-MM 或 YYYY/MM: {quoted(text)}")
    return month_number(int(m.group(1)), int(m.group(2)))


def parse_bool(value: object) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    text = ascii_width(as_text(value)).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(Reason.BAD_BOOL, f"应为 是/否 (Y/N, true/false, 1/0): {quoted(as_text(value))}")


def parse_money(value: object, ceiling_fen: int | None = None) -> int:
    """Yuan → integer fen, exactly; a numeric cell is read at the precision a spreadsheet shows (15 digits).
    An amount above `ceiling_fen` (default: the `ceilings` setting) is `MONEY_TOO_LARGE`."""
    if isinstance(value, bool):
        raise CellError(Reason.BAD_MONEY, f"金额应为数字: {value!r}")
    if isinstance(value, (int, np.integer)):
        amount = Decimal(int(value))
    elif isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            raise CellError(Reason.BAD_MONEY, f"金额应为数字: {value!r}")
        amount = Decimal(repr(f))
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            amount = Decimal(format(f, ".15g"))
    elif isinstance(value, Decimal):
        amount = value
    else:
        text = as_text(value)
        plain = ascii_width(text)
        if plain.startswith("-") and _MONEY.fullmatch(plain[1:]):
            raise CellError(Reason.MONEY_NEGATIVE, f"金额不能为负数: {quoted(text)}")
        if not _MONEY.fullmatch(plain):
            raise CellError(
                Reason.BAD_MONEY, f"金额只能是数字和小数点(不带符号、千分位或货币符号): {quoted(text)}"
            )
        try:
            amount = Decimal(plain)
        except InvalidOperation:  # pragma: no cover - the pattern above admits only decimals
            raise CellError(Reason.BAD_MONEY, f"金额应为数字: {quoted(text)}") from None
    if not amount.is_finite():
        raise CellError(Reason.BAD_MONEY, f"金额应为数字: {quoted(as_text(value))}")
    if amount < 0:
        raise CellError(Reason.MONEY_NEGATIVE, f"金额不能为负数: {quoted(as_text(value))}")
    return _fen(amount, value, max_amount_fen() if ceiling_fen is None else ceiling_fen)


def _fen(amount: Decimal, value: object, ceiling_fen: int) -> int:
    """A non-negative amount in fen (money.fen: exact at any length), its size checked before it is built."""
    _, digits, exp = amount.as_tuple()
    assert isinstance(exp, int)
    n = len(digits)
    if not any(digits):
        return 0
    while digits[n - 1] == 0:  # trailing zeros (704.690 is 704.69) do not count as decimals
        n -= 1
        exp += 1
    if n + exp > MONEY_DIGITS:
        fen = None
    elif exp < -2:
        raise CellError(Reason.MONEY_PRECISION, f"金额最多两位小数: {quoted(as_text(value))}")
    else:
        fen = money.fen(amount)
    if fen is None or fen > ceiling_fen:
        raise CellError(
            Reason.MONEY_TOO_LARGE,
            f"金额 {quoted(as_text(value))} 超过单个金额上限 {ceiling_fen // 100} 元,请核对是否多录了数字",
        )
    return fen


def parse_int(value: object) -> int:
    if isinstance(value, bool):
        raise CellError(Reason.BAD_INT, f"应为整数: {value!r}")
    if isinstance(value, (int, np.integer)):
        number = int(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        number = int(float(value))
    else:
        text = as_text(value)
        plain = ascii_width(text)
        if not _INT.fullmatch(plain):
            raise CellError(Reason.BAD_INT, f"应为整数: {quoted(text)}")
        whole = plain.split(".")[0]
        number = int(whole) if len(whole.lstrip("0")) <= INT_DIGITS else 10**INT_DIGITS
    if abs(number) >= 10**INT_DIGITS:
        raise CellError(
            Reason.BAD_INT, f"整数超出可处理的范围(最多 {INT_DIGITS} 位): {quoted(as_text(value))}"
        )
    return number


def parse_enum(value: object, allowed: tuple[str, ...]) -> str:
    text = as_text(value)
    if text not in allowed:
        raise CellError(Reason.BAD_ENUM, f"{quoted(text)} 不是允许的值 ({' / '.join(allowed)})")
    return text
