"""The rulebook in a reader's words: names in Chinese, money in yuan, formulas and conditions written out.

Used by the plain explanation (engines/plain.py), the handbook (handbook/) and `rules diff`: a field is called by
its Chinese label (vocabulary.FIELD_LABELS), a definition by its title, a parameter by its description; a formula
`covered_count * (dibao_standard[dibao_area] - income_per_capita_month)` reads "户内在保人数 × (城乡最低生活保障
标准(按低保类别) − 家庭月人均收入)", or with values put in by the caller. No pandas: the handbook needs none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from subsidy_engine import money
from subsidy_engine.money import fen_text
from subsidy_engine.roster.schema import BY_ALIAS
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook.files import Schedule, ValueEntry
from subsidy_engine.rulebook.model import Param, Rulebook
from subsidy_engine.rulebook.phrases import Wording, lookup
from subsidy_engine.rulebook.template import Slot, Template
from subsidy_engine.rulebook.vocabulary import FIELD_LABELS, FIELDS

OPS = {"*": "×", "-": "−", "+": "+"}
COMPARE = {"==": "为", "!=": "不为", "<": "低于", "<=": "不高于", ">": "高于", ">=": "不低于"}
ENTITY = {"household": "按户发放(发给户主)", "person": "按人发放"}
HIT_POLICY = {
    "collect": "符合几条规则就发几条",
    "highest": "符合多条规则时只发金额最高的一条",
    "first": "符合多条规则时只发排在最前的一条",
}

Show = Callable[[E.Node], str]  # a node's value as text, for formulas with the numbers put in


def yuan(fen: int) -> str:
    """Integer fen as a person reads it: 7,688.00 (thousands separated, two decimals, no float)."""
    return fen_text(fen, grouped=True)


def label(rb: Rulebook, name: str) -> str:
    """A field, definition or parameter by its Chinese name."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    for d in rb.definitions:
        if d.name == name:
            return d.title
    if name in rb.params:
        return rb.params[name].description
    if name in BY_ALIAS:
        return BY_ALIAS[name].name
    return name


def formula(rb: Rulebook, node: E.Node, show: Show | None = None) -> str:
    """An amount expression in words; with `show`, each name followed by its value."""
    if isinstance(node, E.Arith):
        left, right = formula(rb, node.left, show), formula(rb, node.right, show)
        if isinstance(node.left, E.Arith) and node.op == "*" and node.left.op != "*":
            left = f"({left})"
        if isinstance(node.right, E.Arith) and node.op in ("*", "-") and node.right.op != "*":
            right = f"({right})"
        return f"{left} {OPS[node.op]} {right}"
    if isinstance(node, E.Lit):
        return literal(node)
    if isinstance(node, E.Lookup):
        desc = rb.params[node.param].description
        if show is None:
            return f"{desc}(按{label(rb, node.key.name)})"
        return f"{desc}({show(node.key)}) {show(node)}"
    if isinstance(node, E.Name):
        return label(rb, node.name) + (f" {show(node)}" if show is not None else "")
    if isinstance(node, E.Agg):
        return aggregate(rb, node)
    return condition(rb, node)


def literal(node: E.Lit) -> str:
    v = node.value
    if v is None:
        return "空"
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v)


def aggregate(rb: Rulebook, node: E.Agg) -> str:
    inner = condition(rb, node.arg)
    return f"户内有成员{inner}" if node.func == "household_any" else f"户内{inner}的人数"


def condition(rb: Rulebook, node: E.Node, own: bool = True) -> str:
    """A condition in words without values: its own phrase where the rule files give one (unless `own` is
    false: `rules diff` shows a change the phrase does not), else composed from the names' labels."""
    w = lookup(rb.phrases, node, True) if own else None
    if w is not None:
        return wording_text(rb, w)
    if isinstance(node, E.And):
        return ",且".join(condition(rb, i, own) for i in node.items)
    if isinstance(node, E.Or):
        return "或".join(condition(rb, i, own) for i in node.items)
    if isinstance(node, E.Not):
        return f"不满足“{condition(rb, node.item, own)}”"
    if isinstance(node, E.Compare):
        if isinstance(node.right, E.Lit) and node.right.value is None:
            return f"{formula(rb, node.left)}{'为空' if node.op == '==' else '已填写'}"
        return f"{formula(rb, node.left)}{COMPARE[node.op]}{formula(rb, node.right)}"
    if isinstance(node, E.InList):
        values = "、".join(literal(v) for v in node.values)
        return f"{formula(rb, node.item)}{'不' if node.negated else ''}是 {values} 之一"
    if isinstance(node, E.Agg):
        inner = condition(rb, node.arg, own)
        return f"户内有成员{inner}" if node.func == "household_any" else f"户内{inner}的人数"
    return formula(rb, node)


VALUE = re.compile(r"[((][^()()]*\x00[^()()]*[))]")  # a parenthesis holding a value: dropped


def template_text(rb: Rulebook, t: Template, mark: Callable[[str], str] = lambda s: f"〔{s}〕") -> str:
    """A phrase as the handbook prints it, with no person's values: a parenthesis that shows a value
    ("年满 70 岁(年龄 {age} 岁)") is left out; a slot of an enumerated field reads as its values (城市/农村);
    any other slot as what it stands for, marked (〔家庭月人均收入〕)."""
    out = []
    for part in t.parts:
        out.append(part if isinstance(part, str) else _slot_text(rb, part, lambda s: f"\x00{s}\x01"))
    text = VALUE.sub("", "".join(out))
    return re.sub("\x00(.*?)\x01", lambda m: mark(m.group(1)), text)


def _slot_text(rb: Rulebook, s: Slot, mark: Callable[[str], str]) -> str:
    if s.kind == "context":
        return mark(s.text)
    if s.kind == "members":
        assert s.node is not None
        return mark(f"{condition(rb, s.node)}的成员")
    if s.kind == "column":
        return mark(BY_ALIAS[s.text].name)
    assert s.node is not None
    if s.type is not None and s.type.kind == "enum":
        return "/".join(s.type.values)
    return mark(formula(rb, s.node))


def wording_text(rb: Rulebook, w: Wording, mark: Callable[[str], str] = lambda s: f"〔{s}〕") -> str:
    """A wording in handbook form: the general words, and the others with the case they are for."""
    *special, (_, general) = w.choices
    text = template_text(rb, general, mark)
    extra = [f"{condition(rb, g)}时: {template_text(rb, t, mark)}" for g, t in special if g is not None]
    return text + (f"({';'.join(extra)})" if extra else "")


# --- parameters, schedules ------------------------------------------------------------------------------------


def param_value(p: Param, entry: ValueEntry, key: str | None = None) -> str:
    """A parameter's value in yuan: one number, or the table (城市 735.00 / 农村 600.00), or one key of it."""
    v = entry.value
    if isinstance(v, dict):
        if key is not None and key in v:
            return yuan(money.fen(v[key]))
        return " / ".join(f"{k} {yuan(money.fen(x))}" for k, x in v.items())
    return yuan(money.fen(v))


def status_words(entry: ValueEntry) -> str:
    """正式 / 假定, and where a value is official but the month it started is not: 正式(起始月份为假定)."""
    if entry.status == "assumed":
        return "假定"
    return "正式(起始月份为假定)" if entry.start_status == "assumed" else "正式"


def status_at(p: Param, d: dt.date) -> str:
    return "正式" if p.status_at(d) == "official" else "假定"


def schedule_words(s: Schedule) -> str:
    if s.kind == "monthly":
        return "每月发放(按每月 1 日的情况)"
    days = "、".join(f"{int(md[:2])} 月 {int(md[3:])} 日" for md in s.reference_dates)
    return ("每学期" if s.kind == "semester" else "每年") + f"发放一次(按 {days} 的情况,当月发放)"


def field_names() -> dict[str, str]:
    """Every fact field with its Chinese label (for the handbook's list of terms)."""
    return {name: FIELD_LABELS[name] for name in FIELDS}
