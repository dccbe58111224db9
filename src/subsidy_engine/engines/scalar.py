"""A scalar, pure-Python evaluator of the rule AST, one household at a time (no numpy).

It is the independent half of the rete engine (engines/rete/) and of `explain`: the rulebook's definitions
(needy, dibao_active, covered, covered_count, … including `household_any`/`household_count`) and the rule
amounts are computed here, person by person, from the date-level facts of facts.py. It re-implements the
semantics of engine_vectorized.py on plain values, so the two can check each other:

- a row is a dict field → value: bool, int (money in fen), enum text (None = blank), nullable ints 0 = blank;
- `x op v` on a nullable int is false when x is blank (0), except `!=`; `x == null` tests for blank;
- a money literal is in yuan (converted to fen) where the other side is money; `param[key]` of a blank key is 0.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd

from subsidy_engine.money import fen
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import typecheck as T
from subsidy_engine.rulebook.model import Rulebook
from subsidy_engine.rulebook.vocabulary import FIELDS

Row = dict[str, Any]
Params = dict[str, int | dict[str, int]]
Fn = Callable[[Row, list[Row], Params], Any]

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def fact_rows(frame: pd.DataFrame) -> list[Row]:
    """The rows of a facts_at() table as plain Python values (enum codes → text, -1 → None)."""
    columns: dict[str, list[Any]] = {}
    for name in frame.columns:
        values = frame[name].tolist()  # native int/bool, never numpy scalars
        t = FIELDS.get(name)
        if t is not None and t.kind == "enum":
            texts = t.values
            values = [texts[v] if v >= 0 else None for v in values]
        elif t is not None and t.kind == "bool":
            values = [bool(v) for v in values]
        else:
            values = [int(v) if not isinstance(v, bool) else v for v in values]
        columns[name] = values
    names = list(columns)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*columns.values(), strict=True)]


class Scalar:
    """AST → closures over one row and its household's rows; definitions added to rows in dependency order."""

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self.types: dict[str, T.Type] = dict(FIELDS)
        for d in rulebook.definitions:
            self.types[d.name] = d.type
        self.params = {k: v.key for k, v in rulebook.params.items()}
        self._cache: dict[int, tuple[E.Node, Fn]] = {}
        self.definitions = [(d.name, self.fn(d.node)) for d in rulebook.definitions]

    # --- evaluation -----------------------------------------------------------------------------------------

    def add_definitions(self, rows: list[Row], params: Params) -> None:
        """Add every definition to every row of one household (aggregates see the whole household)."""
        for name, fn in self.definitions:
            values = [fn(r, rows, params) for r in rows]
            for r, v in zip(rows, values, strict=True):
                r[name] = v

    def value(self, node: E.Node, row: Row, rows: list[Row], params: Params) -> Any:
        return self.fn(node)(row, rows, params)

    def fn(self, node: E.Node) -> Fn:
        hit = self._cache.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        f = self._compile(node)
        self._cache[id(node)] = (node, f)
        return f

    # --- types and literals, as in engine_vectorized.Compiler ----------------------------------------------

    def type_of(self, node: E.Node) -> T.Type | None:
        return T.static_type(node, self.types, self.params)

    def literal(self, lit: E.Lit, t: T.Type | None) -> Any:
        """A literal in the row representation: enum text (None = blank), money in fen, whole numbers."""
        v = lit.value
        if t is not None and t.kind == "enum":
            return v
        if v is None:
            return 0  # a blank nullable int
        if t is not None and t.kind == "money" and isinstance(v, Decimal):
            return fen(v)
        if isinstance(v, Decimal):
            return int(v)
        return v

    # --- compilation ----------------------------------------------------------------------------------------

    def _compile(self, node: E.Node) -> Fn:
        if isinstance(node, E.Name):
            name = node.name
            if name in self.params:
                return lambda r, rs, p: p[name]
            return lambda r, rs, p: r[name]
        if isinstance(node, E.Lit):
            value = self.literal(node, None)
            return lambda r, rs, p: value
        if isinstance(node, E.Lookup):
            pname, key = node.param, node.key.name

            def lookup(r: Row, rs: list[Row], p: Params) -> int:
                table = p[pname]
                assert isinstance(table, dict)
                k = r[key]
                return table.get(k, 0) if k is not None else 0

            return lookup
        if isinstance(node, E.Compare):
            return self._compare(node)
        if isinstance(node, E.InList):
            t = self.type_of(node.item)
            item = self.fn(node.item)
            lits = [self.literal(v, t) for v in node.values]
            neg = node.negated
            return lambda r, rs, p: (item(r, rs, p) in lits) != neg
        if isinstance(node, E.And):
            parts = [self.fn(i) for i in node.items]
            return lambda r, rs, p: all(f(r, rs, p) for f in parts)
        if isinstance(node, E.Or):
            parts = [self.fn(i) for i in node.items]
            return lambda r, rs, p: any(f(r, rs, p) for f in parts)
        if isinstance(node, E.Not):
            inner = self.fn(node.item)
            return lambda r, rs, p: not inner(r, rs, p)
        if isinstance(node, E.Arith):
            return self._arith(node)
        if isinstance(node, E.Agg):
            arg = self.fn(node.arg)
            if node.func == "household_count":
                return lambda r, rs, p: sum(1 for m in rs if arg(m, rs, p))
            return lambda r, rs, p: any(arg(m, rs, p) for m in rs)
        raise TypeError(node)

    def _compare(self, node: E.Compare) -> Fn:
        op, left, right = node.op, node.left, node.right
        if isinstance(left, E.Lit) and not isinstance(right, E.Lit):
            left, right, op = right, left, FLIPPED.get(op, op)
        t = self.type_of(left)
        lhs = self.fn(left)
        fn = OPS[op]
        if isinstance(right, E.Lit):
            value = self.literal(right, t)
            if right.value is None:
                return lambda r, rs, p: fn(lhs(r, rs, p), value)
            if t is not None and t.kind == "int" and t.nullable and op != "!=":
                return lambda r, rs, p: (x := lhs(r, rs, p)) != 0 and fn(x, value)
            return lambda r, rs, p: fn(lhs(r, rs, p), value)
        rhs = self.fn(right)
        return lambda r, rs, p: fn(lhs(r, rs, p), rhs(r, rs, p))

    def _arith(self, node: E.Arith) -> Fn:
        t = self.type_of(node)
        sides: list[Fn] = []
        for side in (node.left, node.right):
            if isinstance(side, E.Lit):
                as_money = t is not None and t.kind == "money" and node.op != "*"
                value = self.literal(side, T.MONEY if as_money else T.INT)
                sides.append(_const(value))
            else:
                sides.append(self.fn(side))
        lhs, rhs = sides
        fn = {"+": operator.add, "-": operator.sub, "*": operator.mul}[node.op]
        return lambda r, rs, p: fn(lhs(r, rs, p), rhs(r, rs, p))


def _const(value: Any) -> Fn:
    return lambda r, rs, p: value
