"""What a person reads on the pages: Chinese names for codes (programs, reasons, findings, parameters) and
amounts and counts with thousands separators. The codes stay available in a tooltip (a `title` attribute).

Amounts are formatted from their exact decimal text (`6393238.00` → `6,393,238.00`), never through a float."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import cache

from markupsafe import Markup

from subsidy_engine.audit.codes import DIFF_TITLES, ROSTER_TITLES
from subsidy_engine.roster.validate import REASONS
from subsidy_engine.rulebook.load import load_rulebook
from subsidy_engine.rulebook.model import Rulebook


@cache
def rulebook() -> Rulebook:
    return load_rulebook()


def yuan(value: object) -> str:
    """`6393238.00` → `6,393,238.00` (exact); anything that is not an amount is returned as it is."""
    text = "" if value is None else str(value)
    try:
        return f"{Decimal(text):,.2f}"
    except (InvalidOperation, ValueError):
        return text


def count(value: object) -> str:
    """`26001` → `26,001`; anything that is not a whole number is returned as it is."""
    try:
        return f"{int(str(value)):,}"
    except ValueError:
        return "" if value is None else str(value)


def program_titles() -> dict[str, str]:
    return {p.id: p.title for p in rulebook().programs}


def program(code: object) -> str:
    return program_titles().get(str(code), str(code))


def finding(code: object) -> str:
    titles = {**{str(k): v for k, v in ROSTER_TITLES.items()}, **{str(k): v for k, v in DIFF_TITLES.items()}}
    titles.update(rulebook().finding_titles())
    return titles.get(str(code), str(code))


def reason(code: object) -> str:
    return REASONS.get(str(code), str(code))


_AMOUNT = re.compile(r"(?<![\d.,])-?\d{4,}\.\d\d(?![\d])")


def readable(text: str) -> str:
    """A sentence from the engine for a page: program codes as their Chinese names, amounts with separators."""
    titles = program_titles()
    words = re.compile(r"\b(" + "|".join(map(re.escape, sorted(titles, key=len, reverse=True))) + r")\b")
    text = words.sub(lambda m: titles[m.group(1)], text) if titles else text
    return _AMOUNT.sub(lambda m: yuan(m.group(0)), text)


def coded(title: str, code: object) -> Markup:
    """The title a person reads, the code for whoever needs it in a tooltip."""
    return Markup('<span title="{}">{}</span>').format(code, title)


def param_note(item: str) -> str:
    """`dibao_standard@2023-09-01` → `城乡最低生活保障标准 自 2023-09-01 起的标准为假定值`."""
    name, _, since = item.partition("@")
    param = rulebook().params.get(name)
    title = param.description if param else name
    return f"{title} 自 {since} 起的取值为假定值" if since else f"{title} 为假定值"


def covered_periods() -> tuple[str, str, list[str]]:
    """The rulebook's coverage as (first month, last month, the periods to offer: years, then months)."""
    lo, hi = rulebook().coverage()
    lo = max(lo, dt.date(2000, 1, 1))
    hi = min(hi, dt.date(2100, 12, 31))
    years = [str(y) for y in range(lo.year, hi.year + 1)]
    months = [
        f"{y}-{m:02d}"
        for y in range(lo.year, hi.year + 1)
        for m in range(1, 13)
        if lo <= dt.date(y, m, 1) <= hi
    ]
    return f"{lo:%Y-%m}", f"{hi:%Y-%m}", years + months


def install(env: object) -> None:
    """Register the filters on a Jinja environment."""
    filters = env.filters  # type: ignore[attr-defined]
    filters.update(yuan=yuan, count=count, program=program, finding=finding, reason=reason)
    env.globals.update(coded=coded, param_note=param_note)  # type: ignore[attr-defined]
