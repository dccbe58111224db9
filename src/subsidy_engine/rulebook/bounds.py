"""Interval arithmetic over checked rule expressions: every value an expression can compute must stay within
±VALUE_CEILING (money in fen), so the engines' int64 arithmetic can never wrap around (README "Limits").

The range of a name: a parameter's smallest to largest value over all its dates and keys; a money field of the
roster 0 … 1 亿元; a whole-number field ±10,000; `household_count(...)` 0 … 100; an int definition the range
of its expression. A literal multiplier is itself. Sums, differences and products follow interval arithmetic.
"""

from __future__ import annotations

from decimal import Decimal

from subsidy_engine.money import fen
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.limits import (
    FIELD_INT,
    FIELD_MONEY_FEN,
    HOUSEHOLD_CEILING,
    LINE_CEILING_FEN,
    VALUE_CEILING,
)
from subsidy_engine.rulebook.model import Param
from subsidy_engine.rulebook.typecheck import Type

Interval = tuple[Decimal, Decimal]


def field_ranges(fields: dict[str, Type]) -> dict[str, Interval]:
    """The assumed range of each numeric fact field (money in fen)."""
    out: dict[str, Interval] = {}
    for name, t in fields.items():
        if t.kind == "money":
            out[name] = (Decimal(0), Decimal(FIELD_MONEY_FEN))
        elif t.kind == "int":
            out[name] = (Decimal(-FIELD_INT), Decimal(FIELD_INT))
    return out


def ranges(fields: dict[str, Type], params: dict[str, Param]) -> dict[str, Interval]:
    """The ranges of the numeric fields and of the parameters (in fen, over all their dates and keys)."""
    out = field_ranges(fields)
    for name, p in params.items():
        fens: list[int] = []
        for _, entry in p.entries:
            if entry is not None:
                v = entry.value
                fens += [fen(x) for x in (v.values() if isinstance(v, dict) else [v])]
        out[name] = (Decimal(min(fens, default=0)), Decimal(max(fens, default=0)))
    return out


def check_amount(node: E.Node, ranges: dict[str, Interval]) -> None:
    """A rule's amount: every part within the ceiling, and one payment line at most 1 亿元."""
    iv = bound(node, ranges)
    if iv is not None and iv[1] > LINE_CEILING_FEN:
        raise E.ExprError(
            f"一笔发放最多 {LINE_CEILING_FEN // 100:,} 元,{E.short(E.render(node))} 可达 {iv[1] / 100:,.2f} 元;"
            f"{_ASSUMED}"
        )


def bound(node: E.Node, ranges: dict[str, Interval]) -> Interval | None:
    """The range of a numeric node (None for a condition or text); ExprError if any part can exceed the ceiling.
    `ranges` maps fields, int definitions and parameters (by name) to their ranges."""
    if isinstance(node, E.Lit):
        v = node.value
        return (v, v) if isinstance(v, Decimal) else None
    if isinstance(node, E.Name):
        return ranges.get(node.name)
    if isinstance(node, E.Lookup):
        return ranges.get(node.param)
    if isinstance(node, E.Arith):
        a, b = bound(node.left, ranges), bound(node.right, ranges)
        if a is None or b is None:
            return None
        if node.op == "+":
            out = (a[0] + b[0], a[1] + b[1])
        elif node.op == "-":
            out = (a[0] - b[1], a[1] - b[0])
        else:
            products = [x * y for x in a for y in b]
            out = (min(products), max(products))
        if max(abs(out[0]), abs(out[1])) > VALUE_CEILING:
            raise E.ExprError(
                f"{E.short(E.render(node))} 的值可达 {max(abs(out[0]), abs(out[1])):,.0f}(金额以分计),"
                f"超出可精确计算的范围 ±{VALUE_CEILING:,};{_ASSUMED}"
            )
        return out
    if isinstance(node, E.Agg):
        bound(node.arg, ranges)
        return (Decimal(0), Decimal(HOUSEHOLD_CEILING)) if node.func == "household_count" else None
    if isinstance(node, E.Compare):
        bound(node.left, ranges)
        bound(node.right, ranges)
    elif isinstance(node, E.InList | E.Not):
        bound(node.item, ranges)
    elif isinstance(node, E.And | E.Or):
        for item in node.items:
            bound(item, ranges)
    return None


_ASSUMED = f"估算时参数按其最大值、名册金额按 ≤ 1 亿元、整数字段按 ±{FIELD_INT:,}、户内人数按 ≤ {HOUSEHOLD_CEILING} 计"
