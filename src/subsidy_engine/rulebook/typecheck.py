"""Type-checking rule expressions against the fact fields, definitions and parameters of a rulebook.

Types: bool, int, money (fen), enum (the values of one roster field), null. A string compared with an enum
field must be one of its values ("did you mean"); money is only added to money and multiplied by whole numbers.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal

from subsidy_engine.money import is_fen
from subsidy_engine.rulebook.expr import (
    Agg,
    And,
    Arith,
    Compare,
    ExprError,
    InList,
    Lit,
    Lookup,
    Name,
    Node,
    Not,
    Or,
    render,
)

# --- types --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Type:
    kind: str  # bool | int | money | enum | null
    values: tuple[str, ...] = ()  # enum values
    nullable: bool = False
    field: str = ""  # for enums: the field whose values these are

    def __str__(self) -> str:
        return f"enum({self.field})" if self.kind == "enum" else self.kind


BOOL = Type("bool")
INT = Type("int")
MONEY = Type("money")
NULL = Type("null")


@dataclass
class Env:
    """What names mean while type-checking one expression."""

    fields: dict[str, Type]
    params: dict[str, str | None]  # parameter -> key field (None = scalar); every parameter is money
    allow_aggregates: bool = False
    used_params: set[str] = field(default_factory=set)

    def known(self) -> list[str]:
        return sorted(set(self.fields) | set(self.params))


def check(node: Node, env: Env) -> Type:
    """The type of node, or ExprError naming what is wrong and how to fix it."""
    if isinstance(node, Lit):
        v = node.value
        if v is None:
            return NULL
        if isinstance(v, bool):
            return BOOL
        if isinstance(v, str):
            return Type("str")
        return Type("number")
    if isinstance(node, Name):
        if node.name in env.fields:
            return env.fields[node.name]
        if node.name in env.params:
            if env.params[node.name] is not None:
                raise ExprError(
                    f"参数 {node.name} 按 {env.params[node.name]} 取值,应写 {node.name}[{env.params[node.name]}]"
                )
            env.used_params.add(node.name)
            return MONEY
        raise ExprError(_unknown(node.name, env))
    if isinstance(node, Lookup):
        if node.param not in env.params:
            raise ExprError(_unknown(node.param, env))
        key = env.params[node.param]
        if key is None:
            raise ExprError(f"参数 {node.param} 不是按字段取值的表,直接写 {node.param}")
        if node.key.name != key:
            raise ExprError(f"参数 {node.param} 按 {key} 取值,不能按 {node.key.name}")
        check(node.key, env)
        env.used_params.add(node.param)
        return MONEY
    if isinstance(node, And | Or):
        for item in node.items:
            _expect(item, env, BOOL, "and/or 的两边")
        return BOOL
    if isinstance(node, Not):
        _expect(node.item, env, BOOL, "not 后面")
        return BOOL
    if isinstance(node, InList):
        t = check(node.item, env)
        for v in node.values:
            _compatible(t, v, env, "in")
        return BOOL
    if isinstance(node, Compare):
        lt, rt = check(node.left, env), check(node.right, env)
        if isinstance(node.right, Lit):
            _compatible(lt, node.right, env, node.op)
        elif isinstance(node.left, Lit):
            _compatible(rt, node.left, env, node.op)
        elif _family(lt) != _family(rt) or (lt.kind == "enum" and lt.field != rt.field):
            raise ExprError(f"不能比较 {lt} 与 {rt}: {render(node)}")
        if node.op not in ("==", "!=") and _family(lt) not in ("int", "money", "number"):
            raise ExprError(f"{node.op} 只能比较数字或金额: {render(node)}")
        return BOOL
    if isinstance(node, Arith):
        lt, rt = check(node.left, env), check(node.right, env)
        kinds = {_family(lt), _family(rt)}
        if not kinds <= {"int", "money", "number"}:
            raise ExprError(f"只能对数字和金额做运算: {render(node)}")
        if node.op == "*" and kinds == {"money"}:
            raise ExprError(f"金额不能乘金额: {render(node)}")
        if "money" in kinds and node.op == "*":
            for side in (node.left, node.right):
                if (
                    isinstance(side, Lit)
                    and isinstance(side.value, Decimal)
                    and side.value != int(side.value)
                ):
                    raise ExprError(f"金额只能乘整数(结果须精确到分): {render(node)}")
        if node.op != "*" and "money" in kinds and kinds != {"money"}:
            raise ExprError(f"金额只能与金额相加减: {render(node)}")
        if "money" in kinds:
            return MONEY
        return INT if "int" in kinds else Type("number")
    if isinstance(node, Agg):
        if not env.allow_aggregates:
            raise ExprError(f"{node.func}(...) 只能用在 definitions 里(户内汇总在事实表中算一次)")
        _expect(node.arg, env, BOOL, f"{node.func}(...) 的参数")
        return BOOL if node.func == "household_any" else INT
    raise TypeError(node)


def _family(t: Type) -> str:
    return t.kind


def _expect(node: Node, env: Env, want: Type, where: str) -> None:
    got = check(node, env)
    if got.kind != want.kind:
        raise ExprError(f"{where}应为 {want},实为 {got}: {render(node)}")


def _compatible(t: Type, lit: Lit, env: Env, op: str) -> None:
    v = lit.value
    if v is None:
        if op not in ("==", "!=") or not t.nullable:
            raise ExprError(f"只有可空字段才能与 null 比较(==/!=),{t} 不可为空")
        return
    if t.kind == "enum":
        if not isinstance(v, str):
            raise ExprError(f'{t.field} 的取值是文字,应写成 "..."')
        if v not in t.values:
            hint = difflib.get_close_matches(v, t.values, n=1, cutoff=0.3)
            raise ExprError(
                f'{t.field} 没有取值 "{v}"'
                + (f',是否想写 "{hint[0]}"?' if hint else "")
                + f"(可选: {' / '.join(t.values)})"
            )
        if op not in ("==", "!=", "in"):
            raise ExprError(f"{t.field} 只能用 == / != / in 比较")
        return
    if t.kind == "bool":
        if not isinstance(v, bool):
            raise ExprError("布尔字段只能与 true / false 比较")
        return
    if t.kind in ("int", "money", "number"):
        if not isinstance(v, Decimal):
            raise ExprError(f"{t} 只能与数字比较,不能与 {render(lit)} 比较")
        if t.kind == "int" and v != v.to_integral_value():
            raise ExprError(f"整数字段不能与小数 {v} 比较")
        if t.kind == "money" and not is_fen(v):
            raise ExprError(f"金额常量最多两位小数: {v}")
        return
    raise ExprError(f"不能把 {t} 与 {render(lit)} 比较")


def _unknown(name: str, env: Env) -> str:
    hint = difflib.get_close_matches(name, env.known(), n=1, cutoff=0.6)
    return f"未知的字段或参数 {name!r}" + (f",是否想写 {hint[0]!r}?" if hint else "")


def static_type(node: Node, types: dict[str, Type], params: dict[str, str | None]) -> Type | None:
    """The type a checked node evaluates to, for the engines (which need to know how to read a literal beside
    it): a field's or definition's type, money for parameters and arithmetic on money, None for literals."""
    if isinstance(node, Name) and node.name in types:
        return types[node.name]
    if isinstance(node, Lookup) or (isinstance(node, Name) and node.name in params):
        return MONEY
    if isinstance(node, Arith):
        lt, rt = static_type(node.left, types, params), static_type(node.right, types, params)
        return MONEY if MONEY in (lt, rt) else INT
    if isinstance(node, Agg):
        return BOOL if node.func == "household_any" else INT
    return None
