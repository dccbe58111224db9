"""The words of one decision (a program, a reference date, a person): why not, what would change it, how much.

From the scalar evaluator's values (engines/scalar.py) and the rule files' phrases (rulebook/phrases.py):

- why not: for each rule, the first of its conditions that fails, followed into the definitions written as an
  `and` down to the condition that failed ("家庭月人均收入 650.00 元不低于农村低保标准 581.00 元"); of several
  rules, those that got furthest (most leading conditions held) speak;
- a near miss: that condition compares money within NEAR_MONEY of the threshold, or an age within a year of it;
  and, for a payment that rests on a fact with an end date (a certificate's 有效期至, the 低保终止月), that date
  when it falls within NEAR_DAYS after the reference date;
- the amount in words and numbers, and the parameters it reads with their notice and 正式/假定.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd

from subsidy_engine import money
from subsidy_engine.engines.scalar import Params, Row, Scalar
from subsidy_engine.engines.slots import Style, choose, column, show
from subsidy_engine.roster.validate import NO_DATE
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import words as W
from subsidy_engine.rulebook.model import CompiledRule, Rulebook
from subsidy_engine.rulebook.phrases import lookup

PLAIN = Style(money=W.yuan, blank="无")
NEAR_MONEY = Decimal("0.10")  # a money condition missed by at most 10 % of its threshold
NEAR_AGE = 1  # an age condition missed by at most one year
NEAR_DAYS = 92  # an end date within about three months after the reference date
ENDS = {  # a derived fact whose truth ends on a roster date: the column, and what its end means
    "cert_valid": ("disability_cert_valid_to", "残疾证有效期至 {},到期后须换发新证才能继续享受"),
    "dibao_in_period": ("dibao_to", "低保终止月为 {},此后不再按低保户计算"),
}


class Speaker:
    """Words for one household at one reference date (`rows` aligned with `members`)."""

    def __init__(
        self,
        rulebook: Rulebook,
        scalar: Scalar,
        members: pd.DataFrame,
        rows: list[Row],
        params: Params,
        d: dt.date,
    ) -> None:
        self.rb, self.scalar, self.persons, self.rows, self.params, self.d = (
            rulebook,
            scalar,
            members,
            rows,
            params,
            d,
        )
        self.defs = {x.name: x for x in rulebook.definitions}
        self.pos = 0

    # --- engines/slots.Source --------------------------------------------------------------------------------

    def at(self, pos: int) -> Speaker:
        self.pos = pos
        return self

    def value(self, node: E.Node) -> Any:
        return self.scalar.value(node, self.rows[self.pos], self.rows, self.params)

    def members(self, node: E.Node) -> list[int]:
        return [i for i, r in enumerate(self.rows) if self.scalar.value(node, r, self.rows, self.params)]

    # --- why not ---------------------------------------------------------------------------------------------

    def why_not(self, rules: list[CompiledRule], pos: int) -> tuple[list[str], list[str], set[str]]:
        """(reasons, near misses, parameters read by the failed conditions) for a person no rule paid."""
        self.at(pos)
        failures = []
        for r in rules:
            items = r.when.items if isinstance(r.when, E.And) else (r.when,)
            held = next((k for k, item in enumerate(items) if not self.value(item)), len(items))
            if held < len(items):
                failures.append((held, r, items[held]))
        if not failures:
            return ["金额为 0"], [], set()
        best = max(h for h, _, _ in failures)
        speaking = [(r, node) for h, r, node in failures if h == best]
        said: list[tuple[str, str]] = []
        hints: list[str] = []
        params: set[str] = set()
        for r, node in speaking:
            inner = self.innermost(node)
            text = self.fails(inner)
            if text not in (t for _, t in said):
                said.append((r.title, text))
            hints += [h for h in self.near(inner) if h not in hints]
            params |= E.names(inner) & set(self.rb.params)
        if len(said) == 1:
            return [said[0][1]], hints, params
        return [f"{title}: {text}" for title, text in said], hints, params

    def innermost(self, node: E.Node) -> E.Node:
        """Follow a failed condition into `and`s and definitions written as an `and`, to the part that failed."""
        while True:
            inner: E.Node | None = None
            if isinstance(node, E.And):
                inner = node
            elif isinstance(node, E.Name) and node.name in self.defs:
                body = self.defs[node.name].node
                inner = body if isinstance(body, E.And) else None
            if inner is None:
                return node
            node = next(i for i in inner.items if not self.value(i))  # type: ignore[union-attr]

    def fails(self, node: E.Node) -> str:
        w = lookup(self.rb.phrases, node, False)
        if w is not None:
            return choose(w, self, PLAIN)
        if isinstance(node, E.Not):
            return self.holds(node.item)
        if isinstance(node, E.Name) and node.name in self.defs:
            return self.fails(self.defs[node.name].node)
        if isinstance(node, E.Or):
            return ",".join(self.fails(i) for i in node.items)
        return f"不满足“{W.condition(self.rb, node)}”" + self.values(node)

    def holds(self, node: E.Node) -> str:
        w = lookup(self.rb.phrases, node, True)
        if w is not None:
            return choose(w, self, PLAIN)
        return W.condition(self.rb, node) + self.values(node)

    def values(self, node: E.Node) -> str:
        shown = [
            f"{W.label(self.rb, n)} {self.text(E.Name(n))}"
            for n in sorted(E.names(node))
            if n in self.scalar.types
        ]
        return f"({','.join(shown)})" if shown else ""

    def text(self, node: E.Node) -> str:
        t = self.scalar.type_of(node)
        v = self.value(node)
        if t is None:
            return str(v)
        return show(t, v, PLAIN) + (" 元" if t.kind == "money" else "")

    # --- near misses -----------------------------------------------------------------------------------------

    def near(self, node: E.Node) -> list[str]:
        if not isinstance(node, E.Compare) or node.op in ("==", "!="):
            return []
        t = self.scalar.type_of(node.left)
        if t is None or t.kind not in ("money", "int") or not isinstance(node.left, E.Name):
            return []
        left = int(self.value(node.left))
        right = self._number(node.right, t.kind)
        if right is None:
            return []
        target = {"<": right - 1, "<=": right, ">": right + 1, ">=": right}[node.op]
        gap = abs(target - left)
        name = W.label(self.rb, node.left.name)
        if t.kind == "money" and gap <= abs(right) * NEAR_MONEY:
            verb = "减少" if target < left else "增加"
            return [f"{name}再{verb} {W.yuan(gap)} 元(至 {W.yuan(target)} 元)即满足这一条件"]
        if node.left.name == "age" and target > left and gap <= NEAR_AGE:
            when = _birthday(str(self.persons["id_number"].iat[self.pos]), target)
            return [f"将于 {when} 满 {target} 岁,届时满足这一条件"]
        return []

    def _number(self, node: E.Node, kind: str) -> int | None:
        if isinstance(node, E.Lit):
            if not isinstance(node.value, Decimal):
                return None
            return money.fen(node.value) if kind == "money" else int(node.value)
        t = self.scalar.type_of(node)
        return int(self.value(node)) if t is not None and t.kind == kind else None

    def ends(self, rule: CompiledRule, pos: int) -> list[str]:
        """End dates of the facts a paid rule rests on, when they come within NEAR_DAYS."""
        self.at(pos)
        out = []
        for fact in sorted(self._reads(rule.when) & set(ENDS)):
            col, words = ENDS[fact]
            raw = self.persons[col].iat[pos]
            if int(raw) == NO_DATE:
                continue
            text = column(col, raw, PLAIN)
            if len(text) == 7:  # a month: its last day
                y, m = int(text[:4]), int(text[5:])
                last = dt.date(y, m, calendar.monthrange(y, m)[1])
            else:
                last = dt.date.fromisoformat(text)
            if self.d <= last <= self.d + dt.timedelta(days=NEAR_DAYS):
                out.append(words.format(text))
        return out

    def _reads(self, node: E.Node) -> set[str]:
        out: set[str] = set()
        todo, seen = list(E.names(node)), set()
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            out.add(n)
            if n in self.defs:
                todo += list(E.names(self.defs[n].node))
        return out

    # --- amounts and parameters ------------------------------------------------------------------------------

    def amount(self, rule: CompiledRule, pos: int, fen: int) -> str:
        self.at(pos)
        text = W.formula(self.rb, rule.amount, self.text)
        return f"{text} = {W.yuan(fen)} 元" if isinstance(rule.amount, E.Arith) else text

    def parameters(self, names: set[str], pos: int) -> list[str]:
        """Each parameter in force: description (key), value, unit, since, notice, 正式/假定."""
        self.at(pos)
        out = []
        for name in sorted(names):
            p = self.rb.params[name]
            hit = p.entry_at(self.d)
            if hit is None:
                continue
            start, entry = hit
            key = self.rows[pos].get(p.key) if p.key else None
            which = f"({key})" if key else ""
            status = W.status_at(p, self.d)
            if status == "假定" and entry.status == "official":
                status = "假定(数值正式,起始月份为假定)"
            out.append(
                f"{p.description}{which} {W.param_value(p, entry, key)} {p.unit}:"
                f"自 {start} 起,依据 {entry.reference},{status}"
            )
        return out


def amount_params(rb: Rulebook, rule: CompiledRule) -> set[str]:
    """The parameters an amount reads (a keyed parameter through its look-up)."""
    return E.names(rule.amount) & set(rb.params)


def _birthday(id_number: str, age: int) -> str:
    """The day someone born on the date in the 证件号码 turns `age` (29 February: 1 March in a common year)."""
    y, m, d = int(id_number[6:10]) + age, int(id_number[10:12]), int(id_number[12:14])
    try:
        return dt.date(y, m, d).isoformat()
    except ValueError:
        return dt.date(y, 3, 1).isoformat()
