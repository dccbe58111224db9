"""A reform as edits of the compiled rulebook: `--set NAME=VALUE@DATE` or `--set NAME[KEY]=VALUE@DATE`.

An edit replaces a parameter's value (for a decision table, the value of one key only) from DATE to the end of
the period; before DATE and after the period the parameter's own history is unchanged. The edited rulebook is
a copy in memory: the baseline rulebook and its files are never touched. Refusals name the option as given.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from dataclasses import dataclass
from decimal import Decimal

from subsidy_engine.errors import ReformError
from subsidy_engine.money import fen, fen_text
from subsidy_engine.periods import Period
from subsidy_engine.roster.schema import BY_ALIAS
from subsidy_engine.rulebook import bounds as B
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.files import ValueEntry
from subsidy_engine.rulebook.limits import YUAN_CEILING
from subsidy_engine.rulebook.model import Param, Rulebook
from subsidy_engine.rulebook.vocabulary import FIELDS

SET_SYNTAX = re.compile(
    r"\s*(?P<name>[^\[\]=@\s]+)\s*(?:\[(?P<key>[^\]]*)\])?\s*=(?P<value>[^@]*)@(?P<date>.*)"
)
MONEY = re.compile(r"\d+(?:\.\d{1,2})?")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NOTE = "subsidy impact --set"


@dataclass(frozen=True)
class Edit:
    """One `--set`: the parameter, the key (decision tables only), the value in yuan and its first day."""

    name: str
    key: str | None
    value: Decimal
    start: dt.date
    text: str

    def describe(self) -> dict[str, str | None]:
        """As the manifest records it."""
        return {
            "set": self.text,
            "parameter": self.name,
            "key": self.key,
            "value": fen_text(fen(self.value)),
            "from": self.start.isoformat(),
        }


def parse_edit(text: str) -> Edit:
    """The syntax and the value of one `--set` (names, keys and dates are checked against a rulebook later)."""
    m = SET_SYNTAX.fullmatch(text)
    if m is None:
        raise ReformError(
            f"--set {text!r} 写法不对: 应为 参数=金额@日期 或 参数[键]=金额@日期,"
            f"如 dibao_standard[农村]=650@2024-09-01"
        )
    value, day = m["value"].strip(), m["date"].strip()
    if not MONEY.fullmatch(value):
        raise ReformError(f"--set {text!r}: 金额 {value!r} 应为非负、最多两位小数的元数,如 650 或 312.50")
    if Decimal(value) > YUAN_CEILING:
        raise ReformError(f"--set {text!r}: 金额 {value} 超出参数的上限 {YUAN_CEILING} 元(1 亿元)")
    try:
        if not ISO_DATE.fullmatch(day):
            raise ValueError
        start = dt.date.fromisoformat(day)
    except ValueError:
        raise ReformError(f"--set {text!r}: 日期 {day!r} 应为 YYYY-MM-DD,如 2024-09-01") from None
    key = m["key"].strip() if m["key"] is not None else None
    return Edit(m["name"], key, Decimal(value), start, text)


def check_edit(edit: Edit, rulebook: Rulebook, period: Period) -> None:
    """Refuse an edit of an unknown parameter, an unknown or unused key, or a date outside the period."""
    where = f"--set {edit.text!r}"
    param = rulebook.params.get(edit.name)
    if param is None:
        names = sorted(rulebook.params)
        hint = difflib.get_close_matches(edit.name, names, n=1)
        raise ReformError(
            f"{where}: 规则库 {rulebook.name} 没有参数 {edit.name}"
            + (f",是否想写 {hint[0]}?" if hint else f"(可用: {', '.join(names)})")
        )
    if not period.start <= edit.start <= period.end:
        raise ReformError(
            f"{where}: 日期 {edit.start} 不在期间 {period.label}({period.start} 至 {period.end})之内"
        )
    if param.key is None:
        if edit.key is not None:
            raise ReformError(f"{where}: 参数 {edit.name} 是单个金额,不按键分表;请写 {edit.name}=金额@日期")
        return
    hit = param.entry_at(edit.start)
    keys = list(hit[1].value) if hit is not None and isinstance(hit[1].value, dict) else []
    field = BY_ALIAS[param.key].name if param.key in BY_ALIAS else param.key
    example = f"{edit.name}[{keys[0] if keys else '键'}]=金额@日期"
    if edit.key is None:
        raise ReformError(
            f"{where}: 参数 {edit.name} 是按{field}({param.key})分的表,请写出键,如 {example}"
            f"(可用的键: {' / '.join(keys)})"
        )
    if edit.key not in keys:
        raise ReformError(
            f"{where}: 参数 {edit.name} 在 {edit.start} 的表没有键 {edit.key!r}(可用的键: {' / '.join(keys)})"
        )


def apply_edits(rulebook: Rulebook, edits: list[Edit], period: Period) -> Rulebook:
    """The rulebook with every edit applied, in order of their dates (a later date overrides an earlier one
    from its day on); the programs, definitions and files are the baseline's own objects."""
    rulebook.check_period(period)
    params = dict(rulebook.params)
    seen: dict[tuple[str, str | None, dt.date], str] = {}
    for edit in sorted(edits, key=lambda e: e.start):
        check_edit(edit, dataclasses.replace(rulebook, params=params), period)
        slot = (edit.name, edit.key, edit.start)
        if slot in seen:
            raise ReformError(f"--set {edit.text!r} 与 --set {seen[slot]!r} 改的是同一参数、同一键、同一日期")
        seen[slot] = edit.text
        params[edit.name] = edited_param(params[edit.name], edit, period)
    edited = dataclasses.replace(rulebook, params=params)
    check_bounds(edited, edits)
    return edited


def check_bounds(rulebook: Rulebook, edits: list[Edit]) -> None:
    """The edited values keep every definition and amount within what the engines compute exactly, as loading
    a rulebook checks it (rulebook/bounds.py): refused otherwise, naming the definition or rule."""
    ranges = B.ranges(FIELDS, rulebook.params)
    where = ""
    try:
        for d in rulebook.definitions:
            where = f"定义 {d.name}"
            iv = B.bound(d.node, ranges)
            if iv is not None:
                ranges[d.name] = iv
        for p in rulebook.programs:
            for r in p.rules:
                where = f"规则 {r.id}"
                B.bound(r.when, ranges)
                B.check_amount(r.amount, ranges)
    except E.ExprError as e:
        given = " ".join(f"--set {x.text!r}" for x in edits)
        raise ReformError(f"{given}: 改后{where}: {e}") from None


def edited_param(param: Param, edit: Edit, period: Period) -> Param:
    """The parameter's entries split at the edit's date: from it to the period's end the value (or the key's
    value) is replaced; the day after the period its own history resumes."""
    after = period.end + dt.timedelta(days=1)
    resume = _in_force(param, after)

    def replaced(entry: ValueEntry) -> ValueEntry:
        value: Decimal | dict[str, Decimal] = edit.value
        if isinstance(entry.value, dict):
            value = {**entry.value, str(edit.key): edit.value}
        note = f"{NOTE} {edit.text}"
        return entry.model_copy(
            update={"value": value, "status": "assumed", "start_status": "official", "note": note}
        )

    before = [(d, e) for d, e in param.entries if d < edit.start]
    start_entry = _in_force(param, edit.start)
    assert start_entry is not None  # the period is covered (apply_edits checked it)
    within: list[tuple[dt.date, ValueEntry | None]] = [(edit.start, replaced(start_entry))]
    if param.key is not None:  # a table: later changes of the other keys still take effect
        within += [
            (d, replaced(e)) for d, e in param.entries if edit.start < d <= period.end and e is not None
        ]
    later = [(d, e) for d, e in param.entries if d > period.end]
    if not later or later[0][0] != after:
        later.insert(0, (after, resume))
    return dataclasses.replace(param, entries=before + within + later)


def _in_force(param: Param, d: dt.date) -> ValueEntry | None:
    found: ValueEntry | None = None
    for start, entry in param.entries:
        if start <= d:
            found = entry
    return found
