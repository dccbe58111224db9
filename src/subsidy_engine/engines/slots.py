"""Filling a rule file's text template with one person's values: the one renderer of the auditor's evidence
(audit/declared.py, vectorized values) and of the plain explanation (engines/plain.py, scalar values).

A `Source` gives the raw value of an expression for the person (an enum as its code or its text, money in fen,
a condition as a bool), the household members for whom a condition holds, and the person's validated roster
row; the formatting by type is here. `Style` says how money and blanks read: the auditor's files keep
`650.00` and an empty blank, the explanation shows `7,688.00` and 无.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from subsidy_engine.money import fen_text
from subsidy_engine.roster import cells
from subsidy_engine.roster.schema import BY_ALIAS
from subsidy_engine.roster.validate import NO_DATE, NO_MONEY
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook.phrases import Wording
from subsidy_engine.rulebook.template import Slot, Template


class Source(Protocol):
    persons: pd.DataFrame  # validated rows, columns by alias
    pos: int  # the person's row in persons

    def value(self, node: E.Node) -> Any: ...

    def members(self, node: E.Node) -> Sequence[int]: ...  # rows of the person's household where it holds


@dataclass(frozen=True)
class Style:
    money: Callable[[int], str] = fen_text
    blank: str = ""


AUDIT = Style()


def fill(t: Template, src: Source, context: dict[str, str] | None = None, style: Style = AUDIT) -> str:
    return "".join(p if isinstance(p, str) else slot(p, src, context or {}, style) for p in t.parts)


def choose(w: Wording, src: Source, style: Style, context: dict[str, str] | None = None) -> str:
    """The first wording whose condition holds for the person, filled."""
    for guard, t in w.choices:
        if guard is None or bool(src.value(guard)):
            return fill(t, src, context, style)
    raise AssertionError("a wording ends with an unconditional choice")  # checked at load


def slot(s: Slot, src: Source, context: dict[str, str], style: Style) -> str:
    p = src.persons
    if s.kind == "context":
        return context[s.text]
    if s.kind == "members":
        assert s.node is not None
        return "、".join(f"{p['name'].iat[i]}({p['relation'].iat[i]})" for i in src.members(s.node))
    if s.kind == "column":
        return column(s.text, p[s.text].iat[src.pos], style)
    assert s.node is not None and s.type is not None
    return show(s.type, src.value(s.node), style)


def column(alias: str, v: Any, style: Style = AUDIT) -> str:
    """A roster column that is not a fact, as written: a date as YYYY-MM-DD, a month as YYYY-MM, a flag as 是/否."""
    kind = BY_ALIAS[alias].kind
    if kind == "date":
        return cells.from_day_number(int(v)).isoformat() if int(v) != NO_DATE else style.blank
    if kind == "month":
        return cells.month_text(int(v)) if int(v) != NO_DATE else style.blank
    if kind == "money":
        return style.money(int(v)) if int(v) != NO_MONEY else style.blank
    if kind == "int":
        return str(int(v)) if int(v) != 0 else style.blank
    if kind == "bool":
        return "是" if v else "否"
    return style.blank if v is None or v is pd.NA else str(v)


def show(t: T.Type, v: Any, style: Style = AUDIT) -> str:
    """A value by its type: money in yuan, an enumerated field as its value (code or text), a condition as
    是/否, a blank nullable number as blank."""
    if t.kind == "money":
        return style.money(int(v))
    if t.kind == "enum":
        if v is None:
            return style.blank
        if isinstance(v, str):
            return v
        return t.values[int(v)] if int(v) >= 0 else style.blank
    if t.kind == "bool":
        return "是" if v else "否"
    if t.nullable and int(v) == 0:
        return style.blank
    return str(int(v))
