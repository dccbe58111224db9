"""Money, exactly: yuan (text, Decimal or whole number) → integer fen, and fen → `1234.56` text; never a float.

Every amount the program computes is an integer number of fen (分). Amounts come in as yuan, from the rule files
(Decimal), a roster cell (roster/cells.parse_money checks the cell first) or the program's own outputs (text
with two decimals), and go out as text with exactly two decimals. Plain Python: loading a rulebook needs no
pandas (a column of amounts is converted value by distinct value, run/payments.py).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def fen(yuan: Decimal | str | int) -> int:
    """Yuan → integer fen, from the decimal digits (no context rounds, no float): `Decimal("12.5")` → 1250,
    `"-0.50"` → -50, `3` → 300. More than two decimals (`1.005`), or not a finite number, is a ValueError."""
    if isinstance(yuan, float | bool):
        raise TypeError(f"an amount is never a {type(yuan).__name__}: {yuan!r}")
    try:
        amount = yuan if isinstance(yuan, Decimal) else Decimal(yuan)
    except InvalidOperation:
        raise ValueError(f"not an amount: {yuan!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {yuan!r}")
    sign, digits, exp = amount.as_tuple()
    assert isinstance(exp, int)
    whole = int("".join(map(str, digits)))
    if exp >= -2:
        out = whole * 10 ** (exp + 2)
    else:
        out, rest = divmod(whole, 10 ** (-2 - exp))
        if rest:
            raise ValueError(f"more than two decimals: {yuan!r}")
    return -out if sign else out


def is_fen(yuan: Decimal) -> bool:
    """Whether `yuan` is a whole number of fen (at most two decimals once trailing zeros are dropped)."""
    return yuan.is_finite() and yuan * 100 == (yuan * 100).to_integral_value()


def fen_text(fen: int, *, grouped: bool = False) -> str:
    """Integer fen → `1234.56` (exactly two decimals, `-` for a negative amount); `grouped`: `1,234.56`."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouped else f"{sign}{whole}.{cents:02d}"
