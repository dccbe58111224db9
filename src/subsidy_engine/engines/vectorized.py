"""The vectorized engine: each rule's condition is one boolean mask over the fact table, amounts in integer fen.

Facts are derived once per reference date (facts.py), then the rulebook's definitions are added as columns
in dependency order; every program evaluated on that date reads the same table. Lines are
(payment month, program, rule, person row, amount in fen); `payments.py` turns them into the payment list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from subsidy_engine.engines.contract import (
    choose_arrays,
    month_code,
    negative_amount,
    params_at,
    person_named,
    schedule,
)
from subsidy_engine.engines.facts import Base, base_facts, facts_arrays
from subsidy_engine.money import fen
from subsidy_engine.periods import Period
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook.model import Program, Rulebook
from subsidy_engine.rulebook.vocabulary import FIELDS

LINE_COLUMNS = ["month", "program", "rule", "pos", "amount", "ref_date"]
Progress = Callable[[str, int, int], None]


@dataclass
class Ctx:
    facts: dict[str, np.ndarray]  # fact and definition columns at one reference date
    params: dict[str, int | dict[str, int]]
    household: np.ndarray
    n_households: int
    rows: np.ndarray | None = None  # the roster row number (行号) of each person, for messages

    @property
    def n(self) -> int:
        return len(self.household)

    def col(self, name: str) -> np.ndarray:
        return self.facts[name]


Compiled = Callable[[Ctx], Any]


class Compiler:
    """AST → numpy closures, with the field types known from the rulebook."""

    def __init__(self, types: dict[str, T.Type], params: dict[str, str | None]) -> None:
        self.types = types
        self.params = params

    def type_of(self, node: E.Node) -> T.Type | None:
        return T.static_type(node, self.types, self.params)

    def literal(self, lit: E.Lit, t: T.Type | None) -> Any:
        v = lit.value
        if t is not None and t.kind == "enum":
            return t.values.index(v) if v is not None else -1  # type: ignore[arg-type]
        if t is not None and t.kind == "money" and isinstance(v, Decimal):
            return fen(v)
        if isinstance(v, Decimal):
            return int(v)
        return v

    def compile(self, node: E.Node) -> Compiled:
        if isinstance(node, E.Name):
            name = node.name
            if name in self.params:
                return lambda c: c.params[name]
            return lambda c: c.col(name)
        if isinstance(node, E.Lit):
            value = self.literal(node, None)
            return lambda c: value
        if isinstance(node, E.Lookup):
            pname, key = node.param, node.key.name
            values = FIELDS[key].values if key in FIELDS else self.types[key].values

            def lookup(c: Ctx) -> np.ndarray:
                table = c.params[pname]
                arr = np.array([table.get(v, 0) for v in values] + [0], dtype=np.int64)  # type: ignore[union-attr]
                return arr[c.col(key)]  # code -1 → the trailing 0, masked out by the condition

            return lookup
        if isinstance(node, E.Compare):
            return self._compare(node)
        if isinstance(node, E.InList):
            t = self.type_of(node.item)
            item = self.compile(node.item)
            lits = [self.literal(v, t) for v in node.values]
            neg = node.negated
            if len(lits) > 8:
                return lambda c: np.isin(item(c), lits) != neg

            def in_list(c: Ctx) -> np.ndarray:
                values = item(c)
                hit = np.zeros(np.shape(values), dtype=bool)
                for lit in lits:  # a few comparisons beat np.isin's sort on a million codes
                    hit |= values == lit
                return hit != neg

            return in_list
        if isinstance(node, E.And | E.Or):
            parts = [self.compile(i) for i in node.items]
            is_and = isinstance(node, E.And)

            def boolop(c: Ctx) -> object:
                acc = parts[0](c)
                for p in parts[1:]:
                    acc = (acc & p(c)) if is_and else (acc | p(c))  # type: ignore[operator]
                return acc

            return boolop
        if isinstance(node, E.Not):
            inner = self.compile(node.item)
            return lambda c: np.logical_not(inner(c))
        if isinstance(node, E.Arith):
            return self._arith(node)
        if isinstance(node, E.Agg):
            arg = self.compile(node.arg)
            count = node.func == "household_count"

            def agg(c: Ctx) -> np.ndarray:
                mask = np.broadcast_to(arg(c), (len(c.household),))
                per_household = np.bincount(c.household[mask], minlength=c.n_households)
                out = per_household[c.household]
                return out if count else out > 0

            return agg
        raise TypeError(node)

    def _compare(self, node: E.Compare) -> Compiled:
        op = node.op
        left, right = node.left, node.right
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if isinstance(left, E.Lit) and not isinstance(right, E.Lit):
            left, right, op = right, left, flipped.get(op, op)
        t = self.type_of(left)
        lhs = self.compile(left)
        if isinstance(right, E.Lit):
            value = self.literal(right, t)
            null_int = t is not None and t.kind == "int" and t.nullable
            if right.value is None:
                null_value = -1 if t is not None and t.kind == "enum" else 0
                return (lambda c: lhs(c) == null_value) if op == "==" else (lambda c: lhs(c) != null_value)
            fn = _OPS[op]
            if null_int and op != "!=":
                return lambda c: (lhs(c) != 0) & fn(lhs(c), value)
            return lambda c: fn(lhs(c), value)
        rhs = self.compile(right)
        fn = _OPS[op]
        return lambda c: fn(lhs(c), rhs(c))

    def _arith(self, node: E.Arith) -> Compiled:
        t = self.type_of(node)
        sides: list[Compiled] = []
        for side in (node.left, node.right):
            if isinstance(side, E.Lit):
                as_money = t is not None and t.kind == "money" and node.op != "*"
                value = self.literal(side, T.MONEY if as_money else T.INT)
                sides.append(lambda c, v=value: v)  # type: ignore[misc]
            else:
                sides.append(self.compile(side))
        lhs, rhs = sides
        fn = {"+": np.add, "-": np.subtract, "*": np.multiply}[node.op]
        return lambda c: fn(lhs(c), rhs(c))


_OPS = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


class VectorizedEngine:
    name = "pandas"

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        types = dict(FIELDS)
        for d in rulebook.definitions:
            types[d.name] = d.type
        self.compiler = Compiler(types, {k: v.key for k, v in rulebook.params.items()})
        self.definitions = [(d.name, self.compiler.compile(d.node)) for d in rulebook.definitions]
        self.rules = {
            p.id: [(r, self.compiler.compile(r.when), self.compiler.compile(r.amount)) for r in p.rules]
            for p in rulebook.programs
        }

    def schedule(self, period: Period) -> dict[dt.date, list[Program]]:
        return {
            d: [self.rulebook.programs[i] for i in pis] for d, pis in schedule(self.rulebook, period).items()
        }

    def context(self, base: Base, d: dt.date) -> Ctx:
        ctx = Ctx(
            facts_arrays(base, d),
            params_at(self.rulebook, d),
            base.household,
            base.n_households,
        )
        n = ctx.n
        for name, fn in self.definitions:
            ctx.facts[name] = np.broadcast_to(fn(ctx), (n,)).copy()
        return ctx

    def run(self, persons: pd.DataFrame, period: Period, progress: Progress | None = None) -> pd.DataFrame:
        self.rulebook.check_period(period)
        base = base_facts(persons)
        roster_rows = persons["_row"].to_numpy() if "_row" in persons else None
        plan = self.schedule(period)
        parts: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]] = []  # (date, rule, pos, amount)
        rule_names: list[tuple[str, str]] = []  # (program, rule) per rule index
        dates = list(plan)
        for i, (d, programs) in enumerate(plan.items()):
            if progress:
                progress("evaluate", i, len(plan))
            ctx = self.context(base, d)
            ctx.rows = roster_rows
            for program in programs:
                offset = len(rule_names)
                rule_names += [(program.id, r.id) for r, _, _ in self.rules[program.id]]
                idx, rule_k, amounts = self.evaluate_program(program, ctx, d)
                parts.append((i, offset, idx, rule_k, amounts))
        if progress:
            progress("evaluate", len(plan), len(plan))
        return _lines_frame(parts, rule_names, dates)

    def evaluate_program(
        self, program: Program, ctx: Ctx, d: dt.date
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(person rows, rule index within the program, amount in fen) of the lines this program pays."""
        n = ctx.n
        entity = ctx.col("is_head") if program.entity == "household" else np.ones(n, dtype=bool)
        idx_parts, rule_parts, amount_parts = [], [], []
        for k, (rule, when, amount) in enumerate(self.rules[program.id]):
            mask = np.broadcast_to(when(ctx), (n,)) & entity
            idx = np.flatnonzero(mask)
            amounts = np.broadcast_to(np.asarray(amount(ctx), dtype=np.int64), (n,))[idx]
            if (amounts < 0).any():
                bad = int(idx[amounts < 0][0])
                raise negative_amount(rule.id, d, person_named(ctx.rows, bad), program.file)
            idx_parts.append(idx)
            rule_parts.append(np.full(len(idx), k, dtype=np.int64))
            amount_parts.append(amounts)
        idx = np.concatenate(idx_parts)
        rule_k = np.concatenate(rule_parts)
        amounts = np.concatenate(amount_parts)
        idx, rule_k, amounts = choose_arrays(program.hit_policy, idx, rule_k, amounts)
        keep = amounts > 0
        return idx[keep], rule_k[keep], amounts[keep]


def _lines_frame(
    parts: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]],
    rule_names: list[tuple[str, str]],
    dates: list[dt.date],
) -> pd.DataFrame:
    """One frame of lines (LINE_COLUMNS); texts and dates are taken from their distinct values by code."""
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS})
    date_i = np.concatenate([np.full(len(p[2]), p[0], dtype=np.int64) for p in parts])
    rule_i = np.concatenate([p[1] + p[3] for p in parts])
    month_of = np.array([month_code(d) for d in dates], dtype=np.int64)
    date_of = np.empty(len(dates), dtype=object)
    date_of[:] = dates

    def text(values: list[str]) -> pd.Series:
        return pd.Series(pc.take(pa.array(values, type=pa.large_string()), pa.array(rule_i)).to_pandas())

    return pd.DataFrame(
        {
            "month": month_of[date_i],
            "program": text([p for p, _ in rule_names]),
            "rule": text([r for _, r in rule_names]),
            "pos": np.concatenate([p[2] for p in parts]),
            "amount": np.concatenate([p[4] for p in parts]),
            "ref_date": date_of[date_i],
        }
    )
