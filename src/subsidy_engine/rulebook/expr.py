"""The rule expression language: a small closed language parsed once into an AST, then type-checked.

    expr    := expr "or" expr | expr "and" expr | "not" expr | cmp
    cmp     := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum | ["not"] "in" "(" literal, ... ")")?
    sum     := sum ("+" | "-" | "*") sum | atom
    atom    := NAME | NAME "[" NAME "]" | AGG "(" expr ")" | "true" | "false" | "null" | NUMBER | "STRING" | "(" expr ")"

NAME is a fact field (facts.py), a definition or a parameter of the rulebook; `param[field]` looks a
keyed parameter up by a field; AGG is `household_any` or `household_count`, allowed only in definitions.
Python's own tokenizer and parser read the text; only the node kinds above are accepted. The text is at most
MAX_EXPR_CHARS long and its tree at most MAX_EXPR_DEPTH deep (checked before anything recurses over it); a number
is written in decimal (no 0x, no 1e5) and is at most 1 亿 (rulebook/limits.py).
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from decimal import Decimal

from subsidy_engine.rulebook.limits import MAX_EXPR_CHARS, MAX_EXPR_DEPTH, UNPRINTABLE, YUAN_CEILING

AGGREGATES = ("household_any", "household_count")
CMP_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
ARITH_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


class ExprError(Exception):
    def __init__(self, message: str, col: int | None = None) -> None:
        super().__init__(message)
        self.col = col


# --- AST ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Lit:
    value: object  # bool, str, Decimal, or None (null)


@dataclass(frozen=True)
class Lookup:
    param: str
    key: Name


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class InList:
    item: Node
    values: tuple[Lit, ...]
    negated: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Arith:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Agg:
    func: str
    arg: Node


Node = Name | Lit | Lookup | Compare | InList | And | Or | Not | Arith | Agg


def parse(text: str) -> Node:
    source = " ".join(text.split())
    if len(source) > MAX_EXPR_CHARS:
        raise ExprError(f"表达式过长({len(source)} 个字符,最多 {MAX_EXPR_CHARS} 个);请拆成几个定义")
    if "\0" in source:
        raise ExprError("表达式里有空字符(NUL)")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise ExprError(
            f"表达式语法错误: {e.msg} (在 {short(source)!r} 第 {e.offset} 个字符)", e.offset
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError(f"表达式过于复杂,无法解析;请拆成几个定义: {short(source)!r}") from None
    _check_depth(tree.body)
    return _convert(tree.body, source)


def short(source: str) -> str:
    """An expression's text cut to a readable length for a message."""
    return source if len(source) <= 120 else source[:100] + " …"


def _check_depth(root: ast.AST) -> None:
    """Refuse a tree nested deeper than MAX_EXPR_DEPTH, walking it without recursion."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPR_DEPTH:
            raise ExprError(
                f"表达式嵌套超过 {MAX_EXPR_DEPTH} 层(括号、not、运算符套得太深);请拆成几个定义",
                getattr(node, "col_offset", None),
            )
        stack += [(child, depth + 1) for child in ast.iter_child_nodes(node)]


def _lit_text(node: ast.expr, source: str) -> str:
    return ast.get_source_segment(source, node) or ""


def _convert(n: ast.expr, src: str) -> Node:
    col = getattr(n, "col_offset", None)
    if isinstance(n, ast.BoolOp):
        items = tuple(_convert(v, src) for v in n.values)
        return And(items) if isinstance(n.op, ast.And) else Or(items)
    if isinstance(n, ast.UnaryOp):
        if isinstance(n.op, ast.Not):
            return Not(_convert(n.operand, src))
        if isinstance(n.op, ast.USub) and isinstance(n.operand, ast.Constant):
            return _constant(n.operand, src, negative=True)
    if isinstance(n, ast.Compare):
        if len(n.ops) != 1:
            raise ExprError("一次只能比较两个值(把 a < b < c 写成 a < b and b < c)", col)
        op, right = n.ops[0], n.comparators[0]
        left = _convert(n.left, src)
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.Tuple, ast.List)):
                raise ExprError('in 后面应是括号里的取值列表,如 in ("市外", "区县外市内")', col)
            values = tuple(_convert(v, src) for v in right.elts)
            if not all(isinstance(v, Lit) for v in values):
                raise ExprError("in 列表里只能写常量", col)
            return InList(left, values, negated=isinstance(op, ast.NotIn))  # type: ignore[arg-type]
        if type(op) not in CMP_OPS:
            raise ExprError(f"不支持的比较运算 {type(op).__name__}", col)
        return Compare(CMP_OPS[type(op)], left, _convert(right, src))
    if isinstance(n, ast.BinOp):
        if type(n.op) not in ARITH_OPS:
            raise ExprError(f"不支持的运算 {type(n.op).__name__}(只有 + - *)", col)
        return Arith(ARITH_OPS[type(n.op)], _convert(n.left, src), _convert(n.right, src))
    if isinstance(n, ast.Name):
        if n.id == "true":
            return Lit(True)
        if n.id == "false":
            return Lit(False)
        if n.id == "null":
            return Lit(None)
        return Name(n.id)
    if isinstance(n, ast.Constant):
        return _constant(n, src)
    if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and isinstance(n.slice, ast.Name):
        return Lookup(n.value.id, Name(n.slice.id))
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in AGGREGATES:
        if len(n.args) != 1 or n.keywords:
            raise ExprError(f"{n.func.id}(...) 只接受一个条件", col)
        return Agg(n.func.id, _convert(n.args[0], src))
    if isinstance(n, ast.Call):
        name = n.func.id if isinstance(n.func, ast.Name) else "?"
        hint = difflib.get_close_matches(name, AGGREGATES, n=1)
        raise ExprError(
            f"未知函数 {name}()" + (f",是否想写 {hint[0]}?" if hint else f";可用: {', '.join(AGGREGATES)}"),
            col,
        )
    raise ExprError(f"规则表达式里不允许 {_lit_text(n, src)!r}", col)


_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def _constant(n: ast.Constant, src: str, negative: bool = False) -> Lit:
    v = n.value
    if isinstance(v, bool) or v is None:
        raise ExprError("布尔值和空值写作 true / false / null", n.col_offset)
    if isinstance(v, str):
        bad = UNPRINTABLE.search(v)
        if bad:
            raise ExprError(f"文字常量里有不允许的字符 U+{ord(bad.group()):04X}", n.col_offset)
        return Lit(v)
    if isinstance(v, (int, float)):
        text = _lit_text(n, src).replace("_", "")
        shown = text if len(text) <= 30 else f"{text[:12]}…({len(text)} 个字符)"
        if not _DECIMAL.fullmatch(text):
            raise ExprError(f"数字 {shown!r} 请用十进制直接写出(不用 0x、0o、0b 或 e 记数法)", n.col_offset)
        d = Decimal(text)  # exact decimal from the text, never a float
        if d > YUAN_CEILING:
            raise ExprError(
                f"数字 {shown} 超出上限 {YUAN_CEILING}(规则里的数字和金额最多 1 亿)", n.col_offset
            )
        return Lit(-d if negative else d)
    raise ExprError(f"不支持的常量 {v!r}", n.col_offset)


# --- rendering ----------------------------------------------------------------------------------------------


def render(node: Node) -> str:
    """Canonical text of a node, used in explanations and error messages."""
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Lit):
        v = node.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        return str(v)
    if isinstance(node, Lookup):
        return f"{node.param}[{node.key.name}]"
    if isinstance(node, Compare):
        return f"{render(node.left)} {node.op} {render(node.right)}"
    if isinstance(node, InList):
        return f"{render(node.item)} {'not in' if node.negated else 'in'} ({', '.join(render(v) for v in node.values)})"
    if isinstance(node, And):
        return " and ".join(_paren(i) for i in node.items)
    if isinstance(node, Or):
        return " or ".join(_paren(i) for i in node.items)
    if isinstance(node, Not):
        return f"not {_paren(node.item)}"
    if isinstance(node, Arith):
        return f"{_arith_side(node.left, node.op)} {node.op} {_arith_side(node.right, node.op, right=True)}"
    if isinstance(node, Agg):
        return f"{node.func}({render(node.arg)})"
    raise TypeError(node)


def _arith_side(node: Node, op: str, right: bool = False) -> str:
    if isinstance(node, Arith) and (
        (op == "*" and node.op != "*") or (right and op == "-" and node.op != "*")
    ):
        return f"({render(node)})"
    return _paren(node) if not isinstance(node, Arith) else render(node)


def _paren(node: Node) -> str:
    return f"({render(node)})" if isinstance(node, (And, Or, Arith)) else render(node)


def names(node: Node) -> set[str]:
    """Every field, definition and parameter a node refers to."""
    out: set[str] = set()
    if isinstance(node, Name):
        out.add(node.name)
    elif isinstance(node, Lookup):
        out |= {node.param, node.key.name}
    elif isinstance(node, Compare | Arith):
        out |= names(node.left) | names(node.right)
    elif isinstance(node, InList):
        out |= names(node.item)
    elif isinstance(node, And | Or):
        for i in node.items:
            out |= names(i)
    elif isinstance(node, Not):
        out |= names(node.item)
    elif isinstance(node, Agg):
        out |= names(node.arg)
    return out


def guard_values(node: Node, field_name: str) -> set[str] | None:
    """The values of an enum field that a condition's top-level `and` admits (None: not restricted)."""
    items = node.items if isinstance(node, And) else (node,)
    allowed: set[str] | None = None
    for item in items:
        got: set[str] | None = None
        if (
            isinstance(item, Compare)
            and item.op == "=="
            and item.left == Name(field_name)
            and isinstance(item.right, Lit)
            and isinstance(item.right.value, str)
        ):
            got = {item.right.value}
        elif isinstance(item, InList) and not item.negated and item.item == Name(field_name):
            got = {str(v.value) for v in item.values}
        if got is not None:
            allowed = got if allowed is None else allowed & got
    return allowed
