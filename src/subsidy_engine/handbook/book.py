"""The policy handbook's content: a rulebook in Chinese, as headings, paragraphs, lists and tables.

For each program: its purpose, who is paid and when, each rule's conditions in the rule files' words and its
amount as a formula in words, the notices, and every parameter's full history (start date, value, notice,
正式/假定, the start month marked where it is assumed); then the shared definitions and the roster's columns.
With a date, the values in force that day are marked and listed first. render.py writes it as Markdown and HTML.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from subsidy_engine.money import fen
from subsidy_engine.roster.schema import COLUMNS, help_text
from subsidy_engine.rulebook import expr as E
from subsidy_engine.rulebook import words as W
from subsidy_engine.rulebook.model import CompiledDefinition, Param, Program, Rulebook
from subsidy_engine.rulebook.phrases import lookup
from subsidy_engine.rulebook.vocabulary import FIELD_LABELS

NUMERALS = "一二三四五六七八九十"
LEGEND = (
    "状态: 正式 = 见于已公布的文件;假定 = 未见本地文件,沿用或推定的数值;"
    "正式(起始月份为假定)= 数值见于文件,但开始执行的月份未见文件,按假定的月份执行,"
    "该月份所在年度内依此计算的结果视为依赖假定。"
)


@dataclass
class Block:
    kind: str  # h1 h2 h3 p ul table
    text: str = ""
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    marked: set[int] = field(default_factory=set)  # table rows in force on the date
    assumed: set[int] = field(default_factory=set)  # table rows of an assumed value (or start month)
    anchor: str = ""


def number(i: int) -> str:
    return NUMERALS[i] if i < len(NUMERALS) else str(i + 1)


def build(rb: Rulebook, on: dt.date | None = None) -> list[Block]:
    lo, hi = rb.coverage()
    out = [
        Block("h1", rb.title),
        Block("p", rb.description),
        Block(
            "p",
            f"覆盖期间: {lo} 至 {hi}(此外的期间不予计算)。规则库版本(内容哈希): {rb.content_hash[:16]}。"
            f"共 {len(rb.programs)} 个项目、{sum(len(p.rules) for p in rb.programs)} 条规则、"
            f"{len(rb.params)} 个参数。",
        ),
        Block("p", LEGEND),
    ]
    if on is not None:
        out += in_force(rb, on)
    titles = [f"{number(i)}、{p.title}" for i, p in enumerate(rb.programs)]
    out.append(Block("h2", "目录", anchor="toc"))
    out.append(
        Block(
            "ul",
            items=[f"[{t}](#p-{p.id})" for t, p in zip(titles, rb.programs, strict=True)]
            + ["[共同定义](#definitions)", "[名册字段](#columns)"],
        )
    )
    for title, p in zip(titles, rb.programs, strict=True):
        out += program(rb, p, title, on)
    out += definitions(rb)
    out += columns()
    return out


def in_force(rb: Rulebook, on: dt.date) -> list[Block]:
    rows = []
    for p in rb.programs:
        for name in params_of(rb, p):
            param = rb.params[name]
            hit = param.entry_at(on)
            if hit is None:
                rows.append([p.title, param.description, "无(不在覆盖期间内)", param.unit, "", "", ""])
                continue
            start, entry = hit
            rows.append(
                [
                    p.title,
                    param.description,
                    W.param_value(param, entry),
                    param.unit,
                    str(start),
                    entry.reference,
                    W.status_at(param, on),
                ]
            )
    return [
        Block("h2", f"{on} 有效的参数", anchor="in-force"),
        Block("p", f"下表是 {on} 当天有效的每个参数;各项目的参数沿革表中,当天有效的一行以 ▶ 标出。"),
        Block(
            "table", header=["项目", "参数", "取值(元)", "单位", "起始日期", "依据", "当日状态"], rows=rows
        ),
    ]


def params_of(rb: Rulebook, p: Program) -> list[str]:
    return [name for name, param in rb.params.items() if param.file == p.file]


def program(rb: Rulebook, p: Program, title: str, on: dt.date | None) -> list[Block]:
    out = [
        Block("h2", title, anchor=f"p-{p.id}"),
        Block("p", p.description),
        Block(
            "ul",
            items=[
                f"发放对象: {W.ENTITY[p.entity]}",
                f"发放时间: {W.schedule_words(p.schedule)}",
                f"多条规则: {W.HIT_POLICY[p.hit_policy]}",
            ],
        ),
        Block("h3", "谁能领取,领多少"),
    ]
    refs = {r.id: r.title for r in p.references}
    for k, r in enumerate(p.rules, start=1):
        summary = W.wording_text(rb, r.phrase.holds) if r.phrase is not None else ""
        items = [f"条件: {condition_list(rb, r.when)}", f"金额: {W.formula(rb, r.amount)}"]
        items.append(f"依据: {r.reference}" + (f"({refs[r.reference]})" if r.reference in refs else ""))
        out.append(Block("p", f"({k}){r.title}" + (f" — {summary}" if summary else "")))
        out.append(Block("ul", items=items))
    for name in params_of(rb, p):
        out += parameter(rb.params[name], on)
    out.append(Block("h3", "依据文件"))
    out.append(Block("ul", items=[f"{r.id}: {r.title}" for r in p.references]))
    return out


def condition_list(rb: Rulebook, when: E.Node) -> str:
    """A rule's conditions in words: each part of its top-level `and`, joined as a list."""
    items = when.items if isinstance(when, E.And) else (when,)
    return ";".join(W.condition(rb, i) for i in items)


def parameter(p: Param, on: dt.date | None) -> list[Block]:
    keys: list[str] = []
    for _, entry in p.entries:
        if entry is not None and isinstance(entry.value, dict):
            keys += [k for k in entry.value if k not in keys]
    header = ["起始日期", *(keys or ["取值"]), "依据", "状态"]
    rows: list[list[str]] = []
    marked: set[int] = set()
    assumed: set[int] = set()
    current = p.entry_at(on) if on is not None else None
    for i, (start, entry) in enumerate(p.entries):
        if entry is None:
            rows.append([f"{start} 起", *(["无(本规则库不覆盖)"] + [""] * (max(len(keys), 1) - 1)), "", ""])
            continue
        v = entry.value
        values = [W.yuan(fen(v[k])) if k in v else "" for k in keys] if isinstance(v, dict) else []
        ref = entry.reference  # the notice's title is listed under 依据文件
        status = W.status_words(entry)
        first = f"▶ {start}" if current is not None and current[0] == start else str(start)
        if current is not None and current[0] == start:
            marked.add(i)
        if "假定" in status:
            assumed.add(i)
        rows.append([first, *(values or [W.yuan(fen(v))]), ref, status])  # type: ignore[arg-type]
    lead = f"单位: {p.unit}" + (f";按{FIELD_LABELS[p.key]}分列" if p.key else "")
    return [
        Block("h3", f"参数: {p.description}"),
        Block("p", lead),
        Block("table", header=header, rows=rows, marked=marked, assumed=assumed),
    ]


def definitions(rb: Rulebook) -> list[Block]:
    out = [
        Block("h2", "共同定义", anchor="definitions"),
        Block("p", "规则条件里用到的定义,按参考日期(每月 1 日,或学期、年度的参考日期)当天的情况计算。"),
    ]
    for d in rb.definitions:
        out += definition(rb, d)
    return out


def definition(rb: Rulebook, d: CompiledDefinition) -> list[Block]:
    if d.type.kind != "bool":
        return [Block("h3", d.title), Block("p", f"计算: {W.formula(rb, d.node)}")]
    own = lookup(rb.phrases, E.Name(d.name), True)
    lead = W.wording_text(rb, own) if own is not None else d.title
    node = d.node
    if isinstance(node, E.And):
        return [Block("h3", d.title), Block("p", f"{lead}: 以下条件全部满足"), _items(rb, node.items)]
    if isinstance(node, E.Or):
        return [Block("h3", d.title), Block("p", f"{lead}: 满足以下任一条件"), _items(rb, node.items)]
    return [Block("h3", d.title), Block("p", f"{lead}: {W.condition(rb, node)}")]


def _items(rb: Rulebook, items: tuple[E.Node, ...]) -> Block:
    return Block("ul", items=[W.condition(rb, i) for i in items])


def columns() -> list[Block]:
    rows = [[c.name, "户" if c.level == "H" else "人", help_text(c)] for c in COLUMNS]
    return [
        Block("h2", "名册字段", anchor="columns"),
        Block(
            "p",
            "名册每人一行,同户各成员的户级列(级别为“户”)填写一致。空白名册模板可在网页的名册页下载,"
            "或用命令 subsidy roster template 生成。",
        ),
        Block("table", header=["列名", "级别", "填写要求"], rows=rows),
    ]
