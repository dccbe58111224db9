"""Periods (a calendar year `2023` or a month `2023-09`) and the reference dates of each schedule (docs/specification.md §3)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from subsidy_engine.errors import PeriodError


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date

    @property
    def months(self) -> list[tuple[int, int]]:
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def parse_period(text: str) -> Period:
    """A period from its text; a year outside 1900–9998 is refused like any other bad text (a date of year 0 or
    10000 does not exist, and no roster is for such a year)."""
    t = text.strip()
    year = re.match(r"\d{4}", t)
    if year and not 1900 <= int(year.group()) <= 9998:
        raise PeriodError(f"期间的年份应在 1900 至 9998 之间,不是 {text!r}")
    if re.fullmatch(r"\d{4}", t):
        y = int(t)
        return Period(t, dt.date(y, 1, 1), dt.date(y, 12, 31))
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", t)
    if m and 1 <= int(m.group(2)) <= 12:
        y, mo = int(m.group(1)), int(m.group(2))
        end = dt.date(y + (mo == 12), mo % 12 + 1, 1) - dt.timedelta(days=1)
        return Period(f"{y:04d}-{mo:02d}", dt.date(y, mo, 1), end)
    raise PeriodError(f"期间应为年份 YYYY(如 2023)或月份 YYYY-MM(如 2023-09),不是 {text!r}")


def reference_dates(kind: str, month_days: list[str], period: Period) -> list[dt.date]:
    """The reference dates of a schedule whose payment month falls in the period (payment month = month of d)."""
    if kind == "monthly":
        return [dt.date(y, m, 1) for y, m in period.months]
    out = []
    for y, m in period.months:
        for md in month_days:
            mm, dd = (int(x) for x in md.split("-"))
            if mm == m:
                out.append(dt.date(y, mm, dd))
    return sorted(out)
